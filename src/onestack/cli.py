"""``onestack``: up | down | status | openrc | api | identity rotate-keys | image build-test |
image build-cloud | service install | service uninstall."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

if sys.argv[1:2] in (["up"], ["api"]) and "--detach" not in sys.argv:
    # A server's start imports ~1,500 modules and the collector walked them again and again
    # (~15% of the start's CPU, #19): ``serve`` freezes what the start made, then turns it on.
    gc.disable()

from onestack.config import ConfigError, Settings, default_data_dir, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    server: dict[str, Any] = {}
    if getattr(args, "host", None):
        server["host"] = args.host
    if getattr(args, "port", None):
        server["port"] = args.port
    if server:
        overrides["server"] = server
    try:
        return load_settings(args.data_dir, getattr(args, "config", None), overrides)
    except ConfigError as exc:
        raise SystemExit(f"onestack: invalid configuration: {exc}") from None


def _add_common(p: argparse.ArgumentParser, serving: bool = False) -> None:
    p.add_argument(
        "--data-dir", default=None, help=f"state directory (default {default_data_dir()})"
    )
    p.add_argument(
        "--config", default=None, help="TOML settings file (default DATA_DIR/onestack.toml)"
    )
    if serving:
        p.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=None, help="listen port (default 8770)")


def cmd_up(args: argparse.Namespace) -> int:
    os.umask(0o077)  # the data dir (and the detached log) hold secrets
    settings = _settings(args)
    from onestack import server

    if args.detach:
        return _detach(args, settings)
    return server.run(settings)


def _detach(args: argparse.Namespace, settings: Settings) -> int:
    from onestack import server

    pid = server.running_pid(settings.data_dir)
    if pid is not None:
        print(f"onestack: a cloud is already running on {settings.data_dir} (pid {pid}).")
        return 1
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    argv = [sys.executable, "-m", "onestack", "up", "--data-dir", str(settings.data_dir)]
    for flag in ("config", "host", "port"):
        if getattr(args, flag, None):
            argv += [f"--{flag}", str(getattr(args, flag))]
    log = server.log_path(settings.data_dir)
    with open(log, "ab") as out:
        child = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            print(f"onestack: the cloud failed to start; see {log}:")
            print("".join(log.read_text().splitlines(keepends=True)[-20:]))
            return 1
        state = server.read_state(settings.data_dir)
        ready = state and state.get("pid") == child.pid and "ready_in" in state
        if ready and state and _healthy(state["url"]):
            files = {
                "clouds": settings.data_dir / "clouds.yaml",
                "admin": settings.data_dir / "admin-openrc.sh",
                "demo": settings.data_dir / "demo-openrc.sh",
            }
            print(
                server.banner(settings, files, state["ready_in"], state.get("data_plane")).replace(
                    "Press Ctrl-C to stop.",
                    f"Running in the background (pid {child.pid}, log {log}); "
                    "stop it with 'onestack down'.",
                )
            )
            return 0
        time.sleep(0.05)
    print(f"onestack: the cloud did not answer within 60s; see {log}")
    return 1


def _healthy(url: str, path: str = "/identity/v3") -> bool:
    try:
        with urllib.request.urlopen(url + path, timeout=2) as resp:  # noqa: S310 - our own URL
            return bool(resp.status < 500)
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is gone for every purpose but its exit status.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmd_down(args: argparse.Namespace) -> int:
    from onestack import server

    settings = _settings(args)
    pid = server.running_pid(settings.data_dir)
    if pid is None:
        print(f"onestack: no cloud is running on {settings.data_dir}.")
        return 0
    if pid <= 0:
        print("onestack: the cloud's pid file is missing; cannot stop it.")
        return 1
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # Stopped means the process is gone, not only its lock released: a caller may start
        # the cloud again, or remove its files, at once.
        if server.running_pid(settings.data_dir) is None and not _alive(pid):
            print(f"onestack: stopped (pid {pid}).")
            return 0
        time.sleep(0.05)
    print(f"onestack: pid {pid} did not stop within 30s.")
    return 1


def cmd_status(args: argparse.Namespace) -> int:
    from onestack import server
    from onestack.app import SERVICES

    settings = _settings(args)
    pid = server.running_pid(settings.data_dir)
    state = server.read_state(settings.data_dir)
    if pid is None or state is None:
        print(f"onestack: not running (data dir {settings.data_dir}).")
        return 3
    print(f"onestack: running, pid {pid}, {state['url']}")
    print(f"  data plane: {server.data_plane_line(state.get('data_plane') or {})}")
    healthy = True
    for spec in SERVICES:
        ok = _healthy(state["url"], spec.prefix + "/")
        healthy &= ok
        print(f"  {spec.name:<14} {'ok' if ok else 'DOWN':<5} {state['url']}{spec.prefix}")
    return 0 if healthy else 1


def cmd_openrc(args: argparse.Namespace) -> int:
    from onestack import clouds
    from onestack.identity.bootstrap import load_secrets

    settings = _settings(args)
    secrets = load_secrets(settings.data_dir)
    if not secrets:
        print(
            f"onestack: no cloud has been set up in {settings.data_dir}; run 'onestack up' first.",
            file=sys.stderr,
        )
        return 1
    from onestack import server

    state = server.read_state(settings.data_dir)
    url = state["url"] if state else settings.public_url
    entries = clouds.cloud_entries(f"{url}/identity/v3", settings.identity.region, secrets)
    name = clouds.ADMIN_CLOUD if args.user == "admin" else clouds.DEMO_CLOUD
    sys.stdout.write(clouds.openrc(entries[name]))
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    from onestack import server

    return server.run(_settings(args), lock=False, announce=False, roles=frozenset({"api"}))


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    from onestack.identity import credential_keys, token_keys

    settings = _settings(args)
    repo = credential_keys if args.credentials else token_keys
    keys = repo(settings.data_dir, settings.identity.max_active_keys)
    keys.initialize()
    primary = keys.rotate()
    print(f"onestack: rotated {keys.directory}; key {primary} is now primary.")
    return 0


def cmd_image_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from onestack import server
    from onestack.image.testimage.command import build_cloud, build_test

    settings = _settings(args)
    build = build_cloud if args.image_command == "build-cloud" else build_test
    return build(
        force=args.force,
        output=Path(args.output) if args.output else None,
        register=args.register,
        data_dir=settings.data_dir,
        running=server.running_pid(settings.data_dir) is not None,
    )


def cmd_service(args: argparse.Namespace) -> int:
    import shutil
    from pathlib import Path

    from onestack import service_unit

    name = f"{args.name}.service"
    if args.service_command == "uninstall":
        return service_unit.uninstall(name)
    settings = _settings(args)
    executable = shutil.which("onestack") or str(Path(sys.executable).with_name("onestack"))
    unit = service_unit.Unit(
        name=name,
        data_dir=settings.data_dir.resolve(),
        executable=str(Path(executable).resolve()),
        home=os.environ.get("HOME", "/root"),
        host=args.host,
        port=args.port,
        config=str(Path(args.config).resolve()) if args.config else None,
    )
    return service_unit.install(unit, now=args.now)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="onestack", description="An OpenStack-compatible cloud in one package."
    )
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the whole cloud (foreground unless --detach)")
    _add_common(up, serving=True)
    up.add_argument(
        "--detach",
        action="store_true",
        help="run in the background (pid and log files in DATA_DIR)",
    )
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop a background cloud")
    _add_common(down)
    down.set_defaults(func=cmd_down)
    status = sub.add_parser("status", help="report each service's health")
    _add_common(status)
    status.set_defaults(func=cmd_status)
    openrc = sub.add_parser("openrc", help="print OS_* exports for the admin or demo user")
    openrc.add_argument("user", nargs="?", choices=("admin", "demo"), default="admin")
    _add_common(openrc)
    openrc.set_defaults(func=cmd_openrc)
    api = sub.add_parser("api", help="serve the REST APIs only (scale-out role)")
    _add_common(api, serving=True)
    api.set_defaults(func=cmd_api)
    identity = sub.add_parser("identity", help="identity administration")
    isub = identity.add_subparsers(dest="identity_command", required=True)
    rotate = isub.add_parser("rotate-keys", help="rotate the Fernet token (or credential) keys")
    rotate.add_argument(
        "--credentials", action="store_true", help="rotate the credential keys instead"
    )
    _add_common(rotate)
    rotate.set_defaults(func=cmd_rotate_keys)
    image = sub.add_parser("image", help="image tools")
    imsub = image.add_subparsers(dest="image_command", required=True)
    for name, what, image_name in (
        ("build-test", "the small test guest image", "onestack-test"),
        ("build-cloud", "the Debian 12 cloud image (debootstrap, cloud-init)", "debian-12"),
    ):
        build = imsub.add_parser(name, help=f"build {what} (cached) and print its path")
        build.add_argument("--force", action="store_true", help="rebuild even when cached")
        build.add_argument("--output", default=None, help="also copy the image to this path")
        build.add_argument(
            "--register",
            action="store_true",
            help=f"upload it to the running cloud as the public image {image_name}",
        )
        _add_common(build)
        build.set_defaults(func=cmd_image_build)
    service = sub.add_parser("service", help="start the cloud at boot (systemd)")
    ssub = service.add_subparsers(dest="service_command", required=True)
    install = ssub.add_parser("install", help="write and enable a systemd unit for this cloud")
    _add_common(install, serving=True)
    install.add_argument("--now", action="store_true", help="also start it now")
    install.add_argument("--name", default="onestack", help="unit name (default onestack)")
    install.set_defaults(func=cmd_service)
    uninstall = ssub.add_parser("uninstall", help="disable and remove the systemd unit")
    uninstall.add_argument("--name", default="onestack", help="unit name (default onestack)")
    uninstall.set_defaults(func=cmd_service)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
