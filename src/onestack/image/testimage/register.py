"""Register the cached guest images: ``onestack-test`` (and ``debian-12`` once built).

Two ways: in-process at ``onestack up`` through the image service's seam
(:func:`register_if_present`), and over the Glance v2 HTTP API on a running cloud with the admin
credentials of its ``clouds.yaml`` (``onestack image build-test|build-cloud --register``). Both
are idempotent (an active image of that name with the same content is left as it is, its
``min_ram``/``min_disk`` and properties brought up to date), and both hide older builds of the
same name (``os_hidden``) so that ``--image NAME`` keeps meaning one image.

The test image's kernel and initramfs are registered too, as Glance keeps them for direct kernel
boot (``onestack-test-kernel``, disk and container format ``aki``; ``onestack-test-ramdisk``,
``ari``), and the image names them (``kernel_id``, ``ramdisk_id``, ``os_command_line``): compute
then starts the guest on its kernel at once, without the firmware reading the boot loader, the
kernel and the initramfs from the disk (1.5 to 2 CPU-seconds under TCG). The disk keeps its own
boot loader: the same file uploaded without those properties boots as before.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from onestack.common.logging import get_logger
from onestack.identity.facade import IdentityAPI
from onestack.image.facade import ImageAPI
from onestack.image.testimage.build import (
    COMMAND_LINE,
    IMAGE_NAME,
    MIN_DISK_GB,
    MIN_RAM_MB,
    BuildResult,
    cached_image,
)

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime
    from onestack.image.cloudimage import CloudImage

log = get_logger(__name__)

DISK_FORMAT = "qcow2"
CONTAINER_FORMAT = "bare"
KERNEL_FORMAT = "aki"  # Glance's disk and container format of a kernel image
RAMDISK_FORMAT = "ari"


@dataclass(frozen=True)
class BootFiles:
    """A kernel and initramfs the guest can boot directly, and the kernel's command line."""

    kernel: Path
    ramdisk: Path | None
    command_line: str


@dataclass(frozen=True)
class BootPart:
    """One boot file as an image of its own: the property that names it, its name, its format."""

    prop: str  # kernel_id, ramdisk_id
    name: str
    fmt: str
    path: Path


@dataclass(frozen=True)
class GuestImage:
    """A built image file and how the cloud must describe it."""

    name: str
    path: Path
    properties: dict[str, str] = field(default_factory=dict)
    min_ram: int = 0  # MiB: compute refuses smaller flavors (Nova's 400)
    min_disk: int = 0  # GiB
    boot: BootFiles | None = None  # registered as its kernel_id/ramdisk_id when given

    def boot_parts(self) -> list[BootPart]:
        if self.boot is None:
            return []
        parts = [BootPart("kernel_id", f"{self.name}-kernel", KERNEL_FORMAT, self.boot.kernel)]
        if self.boot.ramdisk is not None:
            parts.append(
                BootPart("ramdisk_id", f"{self.name}-ramdisk", RAMDISK_FORMAT, self.boot.ramdisk)
            )
        return parts

    def with_boot_images(self, ids: dict[str, str]) -> dict[str, str]:
        """The image's properties, naming its registered boot files (``ids`` by property)."""
        if self.boot is None:
            return dict(self.properties)
        return {**self.properties, **ids, "os_command_line": self.boot.command_line}


def image_properties(built: BuildResult) -> dict[str, str]:
    """The extra properties the test image carries (Glance's common image properties)."""
    return {
        "os_distro": IMAGE_NAME,
        "os_type": "linux",
        "os_admin_user": "root",
        "onestack_kernel": built.kernel,
        "onestack_build_key": built.key[:16],
    }


def testimage_guest(built: BuildResult) -> GuestImage:
    """The test image: it cannot boot in 64 MiB (m1.nano), so it says what it needs; booted
    directly on its kernel when the build kept it apart."""
    boot = None
    if built.vmlinuz is not None:
        boot = BootFiles(built.vmlinuz, built.initrd, COMMAND_LINE)
    return GuestImage(IMAGE_NAME, built.path, image_properties(built), MIN_RAM_MB, MIN_DISK_GB,
                      boot)  # fmt: skip


def cloud_guest(built: CloudImage) -> GuestImage:
    """The Debian 12 cloud image, with the properties Nova and its users read."""
    from onestack.image.cloudimage import build as cloud

    properties = {
        "os_distro": "debian",
        "os_version": "12",
        "os_type": "linux",
        "os_admin_user": cloud.DEFAULT_USER,
        "hw_qemu_guest_agent": "yes",
        "onestack_build_key": built.key[:16],
    }
    return GuestImage(cloud.IMAGE_NAME, built.path, properties, cloud.MIN_RAM_MB,
                      cloud.MIN_DISK_GB)  # fmt: skip


def cached_guests() -> list[GuestImage]:
    """Every guest image built on this host: the test image, the Debian cloud image."""
    from onestack.image.cloudimage import cached_cloud_image

    found = []
    built = cached_image()
    if built is not None:
        found.append(testimage_guest(built))
    cloud = cached_cloud_image()
    if cloud is not None:
        found.append(cloud_guest(cloud))
    return found


async def register_if_present(runtime: Runtime) -> None:
    """At ``onestack up``: register the cached guest images as public images.

    Never fails the start: a missing image or image service is skipped, an error is logged.
    """
    guests = cached_guests()
    service = runtime.optional(ImageAPI)
    if not guests or service is None:
        log.debug("no cached guest image or no image service: nothing registered")
        return
    identity = runtime.optional(IdentityAPI)
    owner = identity.bootstrapped.admin_project_id if identity is not None else None
    for guest in guests:
        try:
            ids = {}
            for part in guest.boot_parts():
                registered = await service.register_local_image(
                    name=part.name,
                    path=part.path,
                    disk_format=part.fmt,
                    container_format=part.fmt,
                    visibility="public",
                    owner=owner,
                    properties={},
                )
                ids[part.prop] = str(registered["id"])
            view = await service.register_local_image(
                name=guest.name,
                path=guest.path,
                disk_format=DISK_FORMAT,
                container_format=CONTAINER_FORMAT,
                visibility="public",
                owner=owner,
                properties=guest.with_boot_images(ids),
                min_ram=guest.min_ram,
                min_disk=guest.min_disk,
            )
        except Exception:
            log.exception("could not register the guest image %s", guest.path)
            continue
        log.info("guest image %s is image %s", guest.name, view.get("id"))


# --- over HTTP, for the command line -----------------------------------------------------------


class RegisterError(RuntimeError):
    """The cloud refused or could not be reached."""


@dataclass(frozen=True)
class Digests:
    md5: str
    sha512: str
    size: int


def digests(path: Path) -> Digests:
    md5 = hashlib.md5(usedforsecurity=False)
    sha512 = hashlib.sha512()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            md5.update(chunk)
            sha512.update(chunk)
            size += len(chunk)
    return Digests(md5.hexdigest(), sha512.hexdigest(), size)


def load_cloud(clouds_yaml: Path, name: str = "onestack") -> dict[str, Any]:
    """The named entry of a clouds.yaml file."""
    try:
        data = yaml.safe_load(clouds_yaml.read_text())
    except OSError as exc:
        raise RegisterError(f"cannot read {clouds_yaml}: {exc}") from exc
    entry = (data or {}).get("clouds", {}).get(name)
    if not isinstance(entry, dict) or "auth" not in entry:
        raise RegisterError(f"{clouds_yaml} has no cloud {name!r}")
    return entry


def password_auth_body(auth: dict[str, Any]) -> dict[str, Any]:
    """A Keystone v3 password authentication scoped to the entry's project."""
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": auth["username"],
                        "password": auth["password"],
                        "domain": {"name": auth.get("user_domain_name", "Default")},
                    }
                },
            },
            "scope": {
                "project": {
                    "name": auth["project_name"],
                    "domain": {"name": auth.get("project_domain_name", "Default")},
                }
            },
        }
    }


def endpoint(catalog: list[dict[str, Any]], kind: str, interface: str, region: str | None) -> str:
    """The URL of a service in a Keystone v3 catalog."""
    for service in catalog:
        if service.get("type") != kind:
            continue
        for ep in service.get("endpoints", []):
            if ep.get("interface") != interface:
                continue
            if region and ep.get("region_id", ep.get("region")) not in (region, None):
                continue
            return str(ep["url"]).rstrip("/")
    raise RegisterError(f"the catalog has no {interface} {kind} endpoint")


def find_same(images: list[dict[str, Any]], d: Digests) -> dict[str, Any] | None:
    """An active image with the same content (os_hash_value, or the md5 checksum)."""
    for image in images:
        if image.get("status") != "active":
            continue
        if image.get("os_hash_value") == d.sha512 or (
            not image.get("os_hash_value") and image.get("checksum") == d.md5
        ):
            return image
    return None


class Http:
    """Just enough of a JSON HTTP client on the standard library (the CLI has no httpx).

    Response headers come back with lower-case names."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.token: str | None = None

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self.token:
            all_headers["X-Auth-Token"] = self.token
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise RegisterError(f"not an HTTP URL: {url}")
        req = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                raw = resp.read()
                lowered = {k.lower(): v for k, v in resp.headers.items()}
                return resp.status, lowered, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise RegisterError(f"{method} {url}: HTTP {exc.code} {detail}") from exc
        except OSError as exc:
            raise RegisterError(f"{method} {url}: {exc}") from exc


@dataclass(frozen=True)
class Registered:
    image_id: str
    created: bool  # False when an identical image was already there
    others: list[str]  # other images of the same name (older builds)
    boot_images: dict[str, str] = field(default_factory=dict)  # kernel_id/ramdisk_id -> id


@dataclass(frozen=True)
class Upload:
    """One image to register: a file and how Glance describes it."""

    name: str
    path: Path
    disk_format: str
    container_format: str
    properties: dict[str, str]
    min_ram: int = 0
    min_disk: int = 0


def register_over_http(
    guest: GuestImage, cloud: dict[str, Any], http: Http | None = None
) -> Registered:
    """Upload ``guest`` (its kernel and ramdisk first) as public images unless the cloud
    already has them; then hide older images of their names that the same project owns."""
    http = http or Http()
    auth = cloud["auth"]
    _, headers, body = http.request(
        "POST", auth["auth_url"].rstrip("/") + "/auth/tokens", body=password_auth_body(auth)
    )
    http.token = headers.get("x-subject-token")
    if not http.token:
        raise RegisterError("Keystone returned no token")
    project = body["token"].get("project", {}).get("id")
    glance = endpoint(
        body["token"].get("catalog", []),
        "image",
        cloud.get("interface", "public"),
        cloud.get("region_name"),
    )
    ids = {}
    for part in guest.boot_parts():
        upload = Upload(part.name, part.path, part.fmt, part.fmt, {})
        ids[part.prop] = _register_one(http, glance, project, upload).image_id
    properties = guest.with_boot_images(ids)
    properties.setdefault("os_distro", guest.name)
    upload = Upload(guest.name, guest.path, DISK_FORMAT, CONTAINER_FORMAT, properties,
                    guest.min_ram, guest.min_disk)  # fmt: skip
    done = _register_one(http, glance, project, upload)
    return Registered(done.image_id, done.created, done.others, ids)


def _register_one(http: Http, glance: str, project: str | None, upload: Upload) -> Registered:
    d = digests(upload.path)
    query = urllib.parse.urlencode({"name": upload.name, "limit": 100})
    _, _, listing = http.request("GET", f"{glance}/v2/images?{query}")
    # Glance's name filter is exact: so is this one, whatever the cloud answers.
    images = [i for i in listing.get("images", []) if i.get("name") == upload.name]
    same = find_same(images, d)
    if same is None:
        image_id, created = _upload(http, glance, upload, d), True
    else:
        image_id, created = str(same["id"]), False
        wanted: dict[str, Any] = {"min_ram": upload.min_ram, "min_disk": upload.min_disk,
                                  **upload.properties}  # fmt: skip
        stale = [{"op": "replace" if k in same else "add", "path": f"/{k}", "value": v}
                 for k, v in wanted.items() if same.get(k) != v]  # fmt: skip
        if stale:
            _patch(http, glance, image_id, stale)
    others = [i["id"] for i in images if i["id"] != image_id]
    for image in images:
        if image["id"] != image_id and image.get("owner") == project:
            _patch(http, glance, image["id"], [{"op": "replace", "path": "/os_hidden",
                                                "value": True}])  # fmt: skip
    return Registered(image_id, created, others)


def _upload(http: Http, glance: str, upload: Upload, d: Digests) -> str:
    _, _, image = http.request(
        "POST",
        f"{glance}/v2/images",
        body={
            "name": upload.name,
            "disk_format": upload.disk_format,
            "container_format": upload.container_format,
            "visibility": "public",
            "min_ram": upload.min_ram,
            "min_disk": upload.min_disk,
            **upload.properties,
        },
    )
    with open(upload.path, "rb") as f:
        http.request(
            "PUT",
            f"{glance}/v2/images/{image['id']}/file",
            data=f,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(d.size)},
        )
    _, _, final = http.request("GET", f"{glance}/v2/images/{image['id']}")
    if final.get("status") != "active":
        raise RegisterError(f"image {image['id']} is {final.get('status')} after the upload")
    return str(image["id"])


def _patch(http: Http, glance: str, image_id: str, ops: list[dict[str, Any]]) -> None:
    http.request(
        "PATCH",
        f"{glance}/v2/images/{image_id}",
        data=json.dumps(ops).encode(),
        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
    )
