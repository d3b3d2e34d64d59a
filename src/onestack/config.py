"""Settings: one TOML file plus ``ONESTACK_<GROUP>_<OPTION>`` environment variables.

Precedence (lowest first): defaults, the TOML file (``DATA_DIR/onestack.toml`` or the file
named by ``--config`` / ``ONESTACK_CONFIG``), environment variables, command-line flags.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "onestack"


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServerSettings(_Group):
    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8770, ge=1, le=65535, description="Port the API listens on.")
    public_url: str = Field(
        "",
        description="Base URL published in the catalog; empty means http://HOST:PORT.",
    )
    max_body_bytes: int = Field(1024 * 1024, description="Largest JSON request body accepted.")


class DatabaseSettings(_Group):
    url: str = Field(
        "",
        description="SQLAlchemy async URL; empty means SQLite in the data directory.",
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    pool_size: int = Field(
        10, description="Connections kept per process (SQLite opens more as needed)."
    )


class BusSettings(_Group):
    driver: str = Field("memory", description="Message bus driver: memory.")
    url: str = Field("", description="Broker URL for networked drivers.")


class IdentitySettings(_Group):
    token_expiration: int = Field(3600, ge=60, description="Token lifetime in seconds.")
    password_hash_rounds: int = Field(
        12, ge=4, le=31, description="bcrypt cost factor (Keystone's default is 12)."
    )
    max_active_keys: int = Field(3, ge=2, description="Fernet keys kept by rotate-keys.")
    revocation_refresh: float = Field(
        2.0, description="Seconds between reloads of revocation events from the database."
    )
    list_limit: int = Field(0, ge=0, description="Cap on list sizes; 0 means no cap.")
    region: str = Field("RegionOne", description="Region of the catalog's endpoints.")
    oauth1_request_token_duration: int = Field(
        28800, ge=0, description="Seconds an OAuth1 request token lives; 0: no expiry."
    )
    oauth1_access_token_duration: int = Field(
        86400, ge=0, description="Seconds an OAuth1 access token lives; 0: no expiry."
    )
    # Federation trusts what a front (a SAML or OpenID Connect proxy) says about the user.
    # Off by default: a client could set these headers itself. Turn them on only behind a
    # front that removes them from every incoming request and sets them after its login.
    federation_remote_user_header: str = Field(
        "",
        description="Header the trusted front sets to the remote user (Keystone's "
        "REMOTE_USER); empty: not trusted.",
    )
    federation_assertion_header_prefix: str = Field(
        "",
        description="Prefix of the headers the trusted front sets to the assertion's "
        "attributes (the attribute is the rest of the name); empty: not trusted.",
    )
    federation_remote_id_attribute: str = Field(
        "",
        description="Assertion attribute naming the identity provider, checked against its "
        "remote_ids (Keystone's [federation] remote_id_attribute); a protocol may override.",
    )


class ImageSettings(_Group):
    store: str = Field(
        "file",
        description="Image store driver: file, or object (the object service, as Glance's "
        "swift store; booted images are cached as local files).",
    )
    store_dir: str = Field("", description="File store directory; empty means DATA_DIR/images.")
    quota_images: int = Field(-1, description="Images a project may own; -1 means no limit.")
    quota_bytes: int = Field(-1, description="Image bytes a project may store; -1: no limit.")
    max_image_size: int = Field(
        1024**4, ge=1, description="Largest single image accepted, in bytes (Glance: 1 TiB)."
    )
    # Glance's [import_filtering_opts], for web-download imports and import tasks (and each
    # redirect they follow). Comma-separated; an allow list, when set, overrides its deny list.
    import_allowed_schemes: str = Field(
        "http,https", description="Schemes an import URL may use (http and https at most)."
    )
    import_disallowed_schemes: str = Field(
        "", description="Schemes refused when import_allowed_schemes is empty."
    )
    import_allowed_hosts: str = Field(
        "", description="Hosts (names or addresses) an import URL may name; empty: any."
    )
    import_disallowed_hosts: str = Field(
        "", description="Hosts refused when import_allowed_hosts is empty."
    )
    import_allowed_ports: str = Field(
        "80,443",
        description="Ports an import URL may name; empty: any (a URL naming no port passes).",
    )
    import_disallowed_ports: str = Field(
        "", description="Ports refused when import_allowed_ports is empty."
    )
    upload_recovery_interval: float = Field(
        60.0,
        gt=0,
        description="Seconds between checks for uploads whose API process on this host died "
        "(they go back to queued); also done at start.",
    )
    cache_prefetch_interval: float = Field(
        30.0,
        gt=0,
        description="Seconds between the image cache prefetcher's looks at its queue (a "
        "queueing in the same process starts it at once).",
    )


class NetworkSettings(_Group):
    driver: str = Field(
        "auto",
        description="Data plane driver: linuxbridge, fake, or auto (linuxbridge when running "
        "as root with the tools present, else fake).",
    )
    host: str = Field("", description="This host's name for agents and bindings; empty: hostname.")
    device_prefix: str = Field(
        "os",
        min_length=1,
        max_length=3,
        description="Prefix of every bridge, tap, veth and namespace the agent owns (may delete).",
    )
    run_dir: str = Field(
        "",
        description="Directory for dnsmasq's files and pid files; empty: /run/onestack/PREFIX "
        "(dnsmasq re-reads them as an unprivileged user, so the path must be traversable).",
    )
    resync_interval: float = Field(
        30.0, gt=0, description="Seconds between full reconciles of the host by the agent."
    )
    check_interval: float = Field(
        3.0,
        gt=0,
        description="Seconds between the agent's checks for a dead dnsmasq or metadata proxy, "
        "or a deleted namespace, device or rule (repaired at once when found).",
    )
    change_debounce: float = Field(
        0.02, ge=0, description="Seconds the agent waits to coalesce a burst of changes."
    )
    meter_interval: float = Field(
        30.0,
        gt=0,
        description="Seconds between the agent's reports of the metering labels' traffic "
        "(l3.meter notifications, Neutron's metering agent report_interval).",
    )
    report_interval: float = Field(
        10.0, gt=0, description="Seconds between the agent's heartbeats to the network service."
    )
    dns_domain: str = Field("openstacklocal", description="Domain dnsmasq gives instances.")
    dhcp_lease_time: int = Field(86400, ge=120, description="DHCP lease time in seconds.")
    metadata_url: str = Field(
        "",
        description="Compute metadata API the metadata proxy forwards to; empty: "
        "PUBLIC_URL/compute-metadata.",
    )
    metadata_secret: str = Field(
        "",
        description="Shared secret signing X-Instance-ID (Nova's metadata_proxy_shared_secret); "
        "empty: generated once into DATA_DIR/metadata_secret.",
    )
    metadata_port: int = Field(80, ge=1, le=65535, description="Port of 169.254.169.254.")
    vxlan_group: str = Field("", description="Multicast group of VXLAN devices (multi-host).")
    vxlan_local_ip: str = Field("", description="Local VTEP address of VXLAN devices.")
    vxlan_interface: str = Field("", description="Underlay device of VXLAN traffic.")
    manage_host_ip_forward: bool = Field(
        False,
        description="Switch on net.ipv4.ip_forward on the host (logged) so the external "
        "network is NATed beyond the host; off: only reported when it is off.",
    )
    public_network: str = Field(
        "public", description="Name of the external network created at start; empty: none."
    )
    public_cidr: str = Field(
        "auto",
        description="CIDR of the public network's subnet; auto picks the first 10.199.N.0/24 "
        "that overlaps no address or route of this host.",
    )
    public_physical_network: str = Field(
        "public", description="Physical network (host bridge) the public flat network uses."
    )
    tenant_network_type: str = Field(
        "vxlan", description="Type of project networks: vxlan, vlan, flat or local."
    )
    type_drivers: str = Field(
        "auto",
        description="Network types the API accepts (ML2's type_drivers), comma-separated; "
        "auto: flat, vxlan and local, plus vlan when this host's kernel has 802.1q.",
    )
    physical_networks: str = Field(
        "public,physnet1", description="Comma-separated physical networks for flat/vlan."
    )
    vni_ranges: str = Field("1:1000", description="VXLAN VNIs handed out, MIN:MAX[,MIN:MAX].")
    vlan_ranges: str = Field(
        "physnet1:1000:1999", description="VLAN ids handed out, PHYSNET:MIN:MAX[,...]."
    )
    global_mtu: int = Field(1500, ge=68, description="MTU of the underlying physical network.")


class ComputeSettings(_Group):
    driver: str = Field(
        "auto",
        description="Virt driver: auto (qemu as root with QEMU installed, else fake), qemu, fake.",
    )
    host: str = Field("", description="This compute host's name; empty means the hostname.")
    instances_dir: str = Field(
        "", description="Where instance disks and sockets live; empty: DATA_DIR/instances."
    )
    default_availability_zone: str = Field("nova", description="Zone of hosts in no aggregate.")
    cpu_allocation_ratio: float = Field(4.0, gt=0, description="VCPU overcommit ratio.")
    ram_allocation_ratio: float = Field(1.0, gt=0, description="RAM overcommit ratio.")
    disk_allocation_ratio: float = Field(1.0, gt=0, description="Disk overcommit ratio.")
    reserved_host_cpus: int = Field(0, ge=0, description="VCPUs kept for the host.")
    reserved_host_memory_mb: int = Field(512, ge=0, description="RAM (MiB) kept for the host.")
    reserved_host_disk_gb: int = Field(0, ge=0, description="Disk (GiB) kept for the host.")
    weigher: str = Field("spread", description="Host weighing: spread (default) or pack.")
    max_attempts: int = Field(
        3, ge=1, description="Hosts tried for one boot before the server goes to ERROR."
    )
    service_down_time: int = Field(
        60, ge=1, description="Seconds without a report after which a compute host is down."
    )
    report_interval: float = Field(10.0, gt=0, description="Seconds between agent heartbeats.")
    sync_power_state_interval: float = Field(
        30.0, gt=0, description="Seconds between power-state syncs with the hypervisor."
    )
    shutdown_timeout: float = Field(
        60.0, ge=0, description="Seconds a guest gets to power off on ACPI before it is stopped."
    )
    force_config_drive: bool = Field(
        False, description="Give every server a config drive, asked for or not."
    )
    create_flavors: bool = Field(True, description="Create the m1.* flavors on a new cloud.")
    resume_guests_state_on_host_boot: bool = Field(
        True,
        description="At start, start again the guests that were running before the host "
        "rebooted (Nova's option; true for the one-machine cloud).",
    )
    vnc_proxy_path: str = Field(
        "/compute-console", description="Path of the websocket console proxy on the API port."
    )
    max_count: int = Field(
        100,
        ge=1,
        description="Most servers one request may create (a larger max_count is cut to it, a "
        "larger min_count refused), whatever the quota: one request must not hold the database.",
    )
    quota_instances: int = Field(10, description="Default quota: servers per project.")
    quota_cores: int = Field(20, description="Default quota: VCPUs per project.")
    quota_ram: int = Field(51200, description="Default quota: RAM (MiB) per project.")
    quota_key_pairs: int = Field(100, description="Default quota: key pairs per user.")
    quota_server_groups: int = Field(10, description="Default quota: server groups per project.")
    quota_server_group_members: int = Field(10, description="Default quota: servers per group.")
    quota_metadata_items: int = Field(128, description="Default quota: metadata items/server.")
    quota_injected_files: int = Field(5, description="Default quota: injected files.")
    quota_injected_file_content_bytes: int = Field(10240, description="Injected file bytes.")
    quota_injected_file_path_bytes: int = Field(255, description="Injected file path bytes.")


class ObjectSettings(_Group):
    driver: str = Field("disk", description="Object store driver: disk (files on this host), fake.")
    root: str = Field(
        "", description="Where the disk store keeps objects; empty: DATA_DIR/objects."
    )
    max_file_size: int = Field(
        5 * 1024**3 + 2, ge=1, description="Largest single object (Swift: 5 GiB + 2 bytes)."
    )
    expirer_interval: float = Field(
        1.0, gt=0, description="Seconds between expirer passes (objects past X-Delete-At)."
    )
    reconcile_interval: float = Field(
        3600.0, gt=0, description="Seconds between scans matching object files and listings."
    )
    audit_interval: float = Field(
        86400.0, gt=0, description="Seconds between md5 audits of every object (quarantine)."
    )
    audit_bytes_per_second: int = Field(
        10 * 1024**2, ge=1, description="How fast the md5 auditor reads object files."
    )
    container_info_ttl: float = Field(
        5.0, ge=0, description="Seconds container metadata is cached between API processes."
    )
    reseller_admin_role: str = Field(
        "ResellerAdmin", description="Role (besides admin) that may use every account."
    )
    operator_roles: str = Field(
        "admin,member,swiftoperator", description="Roles that own their project's account."
    )
    cors_allow_origin: str = Field(
        "", description="Origins (comma-separated) CORS allows on every container."
    )
    cors_expose_headers: str = Field(
        "", description="Headers (comma-separated) CORS exposes besides Swift's defaults."
    )


class MeteringSettings(_Group):
    interval: float = Field(
        30.0, gt=0, description="Seconds between two polls of the pollsters (each host's agent)."
    )
    incoming_driver: str = Field(
        "file", description="Where posted measures wait for aggregation: file, redis."
    )
    storage_driver: str = Field(
        "sqlite",
        description="Where aggregated series live: sqlite (one WAL file), file (a file a split).",
    )
    root: str = Field("", description="Time-series directory; empty means DATA_DIR/metering.")
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis server of the redis incoming driver."
    )
    processing_interval: float = Field(
        1.0, gt=0, description="Seconds between two scans for measures to aggregate."
    )
    processing_workers: int = Field(
        1, ge=1, le=16, description="Threads aggregating measures in this process."
    )
    create_resource_types: bool = Field(
        True, description="Create Ceilometer's resource types and archive policies on start."
    )
    archive_policy: str = Field(
        "ceilometer-high",
        description="Archive policy of collected metrics (counters get its -rate variant).",
    )
    max_measures_body: int = Field(
        64 * 1024 * 1024, description="Largest measures body (batches) accepted, in bytes."
    )


class AlarmingSettings(_Group):
    evaluation_interval: float = Field(
        60.0, gt=0, description="Seconds between two rounds of the alarm evaluator."
    )
    project_alarm_quota: int = Field(-1, description="Alarms a project may have; -1: no limit.")


class OrchestrationSettings(_Group):
    max_template_size: int = Field(
        524288, ge=1, description="Largest template accepted, in bytes (Heat's default)."
    )
    # A stack's template_url is fetched behind the same URI filter as the image service's
    # web-download imports ([image] import_allowed_schemes ...): comma-separated lists, an
    # allow list, when set, overriding its deny list.
    template_url_allowed_schemes: str = Field(
        "http,https", description="Schemes a template_url may use (http and https at most)."
    )
    template_url_disallowed_schemes: str = Field(
        "", description="Schemes refused when template_url_allowed_schemes is empty."
    )
    template_url_allowed_hosts: str = Field(
        "", description="Hosts (names or addresses) a template_url may name; empty: any."
    )
    template_url_disallowed_hosts: str = Field(
        "", description="Hosts refused when template_url_allowed_hosts is empty."
    )
    template_url_allowed_ports: str = Field(
        "80,443",
        description="Ports a template_url may name; empty: any (a URL naming no port passes).",
    )
    template_url_disallowed_ports: str = Field(
        "", description="Ports refused when template_url_allowed_ports is empty."
    )
    template_url_timeout: float = Field(
        30.0, gt=0, description="Seconds a template_url fetch may take to connect and read."
    )
    max_resources_per_stack: int = Field(
        1000, description="Resources a stack may hold; -1: no limit (Heat's default 1000)."
    )
    max_stacks_per_tenant: int = Field(
        512,
        ge=-1,
        description="Top-level stacks a project may hold (admins are not limited); -1: no "
        "limit (Heat's default 512).",
    )
    heartbeat_interval: float = Field(
        10.0,
        gt=0,
        description="Seconds between the engine's heartbeats on the stacks it works on; a "
        "stack IN_PROGRESS silent for three of them is taken over (resumed or failed).",
    )
    guest_url: str = Field(
        "",
        description="Base URL (http://ADDRESS:PORT) at which guests reach this cloud's API, "
        "put in the URLs a guest calls back: a wait condition handle's endpoint and curl_cli, "
        "the software-config hook's (Heat's [clients_heat] url); empty: the public URL.",
    )
    hidden_stack_tags: str = Field(
        "data-processing-cluster",
        description="Comma-separated stack tags that hide a stack from stack lists unless "
        "show_hidden=true (Heat's hidden_stack_tags).",
    )


class VolumeSettings(_Group):
    driver: str = Field(
        "auto",
        description="Volume driver: auto (file when qemu-img is installed, else fake), file, fake.",
    )
    host: str = Field("", description="This volume host's name; empty means the hostname.")
    backend_name: str = Field("file", description="The backend's name (volume_backend_name).")
    volumes_dir: str = Field(
        "", description="Where the file driver keeps volumes; empty: DATA_DIR/volumes."
    )
    volume_format: str = Field("qcow2", description="Format of new file volumes: qcow2 or raw.")
    capacity_gb: int = Field(
        0, ge=0, description="Pool size reported, GiB; 0: the volumes directory's file system."
    )
    max_over_subscription_ratio: float = Field(
        20.0, ge=1.0, description="Thin provisioning overcommit of the pool (Cinder's default)."
    )
    reserved_percentage: int = Field(0, ge=0, le=100, description="Pool share kept free.")
    availability_zone: str = Field("nova", description="Zone of this volume host.")
    default_volume_type: str = Field("__DEFAULT__", description="Type of volumes made without one.")
    report_interval: float = Field(10.0, gt=0, description="Seconds between capacity reports.")
    service_down_time: int = Field(
        60, ge=1, description="Seconds without a report after which a volume host is down."
    )
    quota_volumes: int = Field(10, description="Default quota: volumes per project.")
    quota_snapshots: int = Field(10, description="Default quota: snapshots per project.")
    quota_gigabytes: int = Field(1000, description="Default quota: GiB of volumes+snapshots.")
    quota_backups: int = Field(10, description="Default quota: backups per project.")
    quota_backup_gigabytes: int = Field(1000, description="Default quota: GiB of backups.")
    quota_groups: int = Field(10, description="Default quota: groups per project.")
    quota_per_volume_gigabytes: int = Field(-1, description="Largest volume, GiB; -1: none.")


class DashboardSettings(_Group):
    endpoint: str = Field(
        "",
        description="Base URL of the cloud's APIs the dashboard calls (e.g. a load balancer); "
        "empty: the APIs of its own process, called in process.",
    )
    secret_key: str = Field(
        "",
        description="Key (Fernet, urlsafe base64) sealing the session cookies; empty: one kept "
        "in DATA_DIR/dashboard.key. Every process behind one address needs the same key.",
    )
    page_size: int = Field(20, ge=1, le=1000, description="Rows per page of each list.")


class PolicySettings(_Group):
    file: str = Field("", description="Operator policy YAML overriding the default rules.")


class LoggingSettings(_Group):
    level: str = Field("INFO", description="Log level.")
    format: str = Field("text", description="text or json.")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    server: ServerSettings = Field(default_factory=lambda: ServerSettings())
    database: DatabaseSettings = Field(default_factory=lambda: DatabaseSettings())
    bus: BusSettings = Field(default_factory=lambda: BusSettings())
    identity: IdentitySettings = Field(default_factory=lambda: IdentitySettings())
    image: ImageSettings = Field(default_factory=lambda: ImageSettings())
    network: NetworkSettings = Field(default_factory=lambda: NetworkSettings())
    compute: ComputeSettings = Field(default_factory=lambda: ComputeSettings())
    object: ObjectSettings = Field(default_factory=lambda: ObjectSettings())
    metering: MeteringSettings = Field(default_factory=lambda: MeteringSettings())
    alarming: AlarmingSettings = Field(default_factory=lambda: AlarmingSettings())
    orchestration: OrchestrationSettings = Field(default_factory=lambda: OrchestrationSettings())

    volume: VolumeSettings = Field(default_factory=lambda: VolumeSettings())
    dashboard: DashboardSettings = Field(default_factory=lambda: DashboardSettings())
    policy: PolicySettings = Field(default_factory=lambda: PolicySettings())
    logging: LoggingSettings = Field(default_factory=lambda: LoggingSettings())

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'onestack.db'}"

    @property
    def public_url(self) -> str:
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        host = self.server.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.server.port}"


class ConfigError(Exception):
    """The configuration file or environment holds an invalid value."""


_GROUPS = {name for name, f in Settings.model_fields.items() if name != "data_dir"}


def _from_environment(environ: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "ONESTACK_DATA_DIR" in environ:
        values["data_dir"] = environ["ONESTACK_DATA_DIR"]
    for group in _GROUPS:
        model = Settings.model_fields[group].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for option in model.model_fields:
            key = f"ONESTACK_{group}_{option}".upper()
            if key in environ:
                values.setdefault(group, {})[option] = environ[key]
    return values


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(
    data_dir: str | Path | None = None,
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Build the settings from file, environment and explicit overrides (flags)."""
    env = dict(os.environ if environ is None else environ)
    from_env = _from_environment(env)
    chosen_dir = Path(data_dir or from_env.get("data_dir") or default_data_dir()).expanduser()
    path = Path(config_file or env.get("ONESTACK_CONFIG") or chosen_dir / "onestack.toml")
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            values = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    values = _merge(values, from_env)
    values = _merge(values, overrides or {})
    values["data_dir"] = chosen_dir
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(str(exc)) from exc
