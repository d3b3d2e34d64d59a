"""Registering the test image: in-process at `onestack up`, and over HTTP for the CLI."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from onestack.cli import parser
from onestack.identity.facade import IdentityAPI
from onestack.image.facade import ImageAPI
from onestack.image.testimage import build, register


@pytest.fixture
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cached "image" in a private XDG cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = build.image_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"QFI\xfb" + b"\0" * 1000)
    build.record_path().write_text(
        json.dumps({"key": "k" * 64, "kernel": "linux-image-x=1", "virtual_size": 1})
    )
    return path


@pytest.fixture
def boot_files(cached: Path) -> tuple[Path, Path]:
    """The build's kernel and initramfs, kept beside the cached image."""
    build.kernel_path().write_bytes(b"MZ kernel")
    build.initrd_path().write_bytes(b"070701 initrd")
    return build.kernel_path(), build.initrd_path()


class FakeImageService:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = fail

    async def register_local_image(self, **kwargs: Any) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("store is full")
        self.calls.append(kwargs)
        return {"id": f"img-{len(self.calls)}", "name": kwargs["name"]}


def providing(services: dict[type, Any]) -> Any:
    """A runtime that offers these services (by their facade type) and nothing else."""
    return SimpleNamespace(optional=services.get)


class TestRegisterIfPresent:
    async def test_registers_public_qcow2(self, cached: Path) -> None:
        service = FakeImageService()
        identity = SimpleNamespace(bootstrapped=SimpleNamespace(admin_project_id="p-admin"))
        await register.register_if_present(providing({ImageAPI: service, IdentityAPI: identity}))
        (call,) = service.calls
        assert call["name"] == "onestack-test"
        assert call["path"] == cached
        assert call["disk_format"] == "qcow2"
        assert call["container_format"] == "bare"
        assert call["visibility"] == "public"
        assert call["owner"] == "p-admin"
        assert call["properties"]["os_distro"] == "onestack-test"
        # The test image does not boot in m1.nano's 64 MiB: compute must refuse that flavor.
        assert (call["min_ram"], call["min_disk"]) == (128, 1)
        assert all(isinstance(v, str) for v in call["properties"].values())
        # A cache without the kernel kept apart: booted through the disk's boot loader.
        assert "kernel_id" not in call["properties"]

    async def test_the_kernel_and_initramfs_become_images_the_test_image_names(
        self, cached: Path, boot_files: tuple[Path, Path]
    ) -> None:
        service = FakeImageService()
        await register.register_if_present(providing({ImageAPI: service}))
        kernel, ramdisk, image = service.calls
        assert (kernel["name"], kernel["path"]) == ("onestack-test-kernel", boot_files[0])
        assert (kernel["disk_format"], kernel["container_format"]) == ("aki", "aki")
        assert (ramdisk["name"], ramdisk["path"]) == ("onestack-test-ramdisk", boot_files[1])
        assert (ramdisk["disk_format"], ramdisk["container_format"]) == ("ari", "ari")
        assert kernel["visibility"] == ramdisk["visibility"] == "public"
        assert image["path"] == cached and image["disk_format"] == "qcow2"
        props = image["properties"]
        assert (props["kernel_id"], props["ramdisk_id"]) == ("img-1", "img-2")
        assert props["os_command_line"] == build.COMMAND_LINE
        assert "tsc=reliable no_timer_check" in props["os_command_line"]

    async def test_nothing_cached(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        service = FakeImageService()
        await register.register_if_present(providing({ImageAPI: service}))
        assert service.calls == []

    async def test_errors_do_not_stop_the_cloud(
        self, cached: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        failing = FakeImageService(fail=True)
        with caplog.at_level(logging.DEBUG, logger="onestack"):
            # Neither a failing image service nor a missing one raises: both are logged.
            assert await register.register_if_present(providing({ImageAPI: failing})) is None
            assert await register.register_if_present(providing({})) is None
        assert failing.calls == []
        failed = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert [r.getMessage() for r in failed] == [f"could not register the guest image {cached}"]
        assert failed[0].exc_info is not None and "store is full" in str(failed[0].exc_info[1])
        assert "nothing registered" in caplog.text


class FakeCloud(BaseHTTPRequestHandler):
    """Keystone's token call and the Glance calls the registration makes."""

    images: dict[str, dict[str, Any]]
    uploads: list[bytes]

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, code: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_POST(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/identity/v3/auth/tokens":
            auth = json.loads(self.body())["auth"]
            assert auth["identity"]["password"]["user"]["name"] == "admin"
            catalog = [
                {
                    "type": "image",
                    "endpoints": [
                        {"interface": "public", "region_id": "RegionOne", "url": f"{base}/image"}
                    ],
                }
            ]
            token = {"catalog": catalog, "project": {"id": "p-admin"}}
            self.reply(201, {"token": token}, {"X-Subject-Token": "tok"})
            return
        assert self.headers["X-Auth-Token"] == "tok"
        assert self.path == "/image/v2/images"
        body = json.loads(self.body())
        image = {"id": f"id-{len(self.images) + 1}", "status": "queued", "owner": "p-admin",
                 "os_hidden": False, **body}  # fmt: skip
        self.images[image["id"]] = image
        self.reply(201, image)

    def do_PUT(self) -> None:
        image_id = self.path.split("/")[-2]
        data = self.body()
        self.uploads.append(data)
        self.images[image_id].update(
            status="active",
            checksum=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            os_hash_algo="sha512",
            os_hash_value=hashlib.sha512(data).hexdigest(),
        )
        self.reply(204)

    def do_PATCH(self) -> None:
        assert self.headers["Content-Type"] == "application/openstack-images-v2.1-json-patch"
        image = self.images[self.path.rsplit("/", 1)[1]]
        for op in json.loads(self.body()):
            key = op["path"].lstrip("/")
            assert op["op"] == ("replace" if key in image else "add"), op
            image[key] = op["value"]
        self.reply(200, image)

    def do_GET(self) -> None:
        assert self.headers["X-Auth-Token"] == "tok"
        if self.path.startswith("/image/v2/images?"):
            assert "name=onestack-test" in self.path
            self.reply(200, {"images": list(self.images.values())})
        else:
            self.reply(200, self.images[self.path.rsplit("/", 1)[1]])


@pytest.fixture
def fake_cloud(tmp_path: Path) -> Iterator[tuple[Path, type[FakeCloud]]]:
    handler = type("Handler", (FakeCloud,), {"images": {}, "uploads": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    auth_url = f"http://127.0.0.1:{server.server_address[1]}/identity/v3"
    clouds = tmp_path / "clouds.yaml"
    entry = {
        "auth": {
            "auth_url": auth_url,
            "username": "admin",
            "password": "pw",
            "project_name": "admin",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": "RegionOne",
        "interface": "public",
    }
    clouds.write_text(yaml.safe_dump({"clouds": {"onestack": entry}}))
    try:
        yield clouds, handler
    finally:
        server.shutdown()
        server.server_close()


class TestRegisterOverHttp:
    def test_uploads_once(self, cached: Path, fake_cloud: tuple[Path, type[FakeCloud]]) -> None:
        clouds, handler = fake_cloud
        cloud = register.load_cloud(clouds)
        built = build.cached_image()
        assert built is not None
        guest = register.testimage_guest(built)
        first = register.register_over_http(guest, cloud)
        assert first.created and first.others == []
        image = handler.images[first.image_id]
        assert image["visibility"] == "public"
        assert image["disk_format"] == "qcow2" and image["container_format"] == "bare"
        assert image["os_distro"] == "onestack-test"
        assert (image["min_ram"], image["min_disk"]) == (128, 1)
        assert handler.uploads == [cached.read_bytes()]

        image["min_ram"] = 0  # registered by an older OneStack
        again = register.register_over_http(guest, cloud)
        assert not again.created and again.image_id == first.image_id
        assert len(handler.uploads) == 1
        assert image["min_ram"] == 128

        cached.write_bytes(b"QFI\xfb new build")
        third = register.register_over_http(guest, cloud)
        assert third.created and third.others == [first.image_id]
        # The older build is hidden: `--image onestack-test` names one image.
        assert image["os_hidden"] is True
        assert handler.images[third.image_id]["os_hidden"] is False

    def test_registers_the_kernel_and_initramfs_for_direct_boot(
        self,
        cached: Path,
        boot_files: tuple[Path, Path],
        fake_cloud: tuple[Path, type[FakeCloud]],
    ) -> None:
        clouds, handler = fake_cloud
        cloud = register.load_cloud(clouds)
        built = build.cached_image()
        assert built is not None and built.vmlinuz == boot_files[0]
        guest = register.testimage_guest(built)
        done = register.register_over_http(guest, cloud)
        assert done.created and set(done.boot_images) == {"kernel_id", "ramdisk_id"}
        kernel = handler.images[done.boot_images["kernel_id"]]
        ramdisk = handler.images[done.boot_images["ramdisk_id"]]
        assert (kernel["name"], kernel["disk_format"], kernel["container_format"]) == (
            "onestack-test-kernel", "aki", "aki")  # fmt: skip
        assert (ramdisk["name"], ramdisk["disk_format"], ramdisk["container_format"]) == (
            "onestack-test-ramdisk", "ari", "ari")  # fmt: skip
        image = handler.images[done.image_id]
        assert image["kernel_id"] == kernel["id"] and image["ramdisk_id"] == ramdisk["id"]
        assert image["os_command_line"] == build.COMMAND_LINE
        assert handler.uploads == [p.read_bytes() for p in (*boot_files, cached)]

        # Registered by an older OneStack, without them: the same file gets them added.
        for key in ("kernel_id", "ramdisk_id", "os_command_line"):
            del image[key]
        again = register.register_over_http(guest, cloud)
        assert not again.created and again.image_id == done.image_id
        assert len(handler.uploads) == 3
        assert image["kernel_id"] == kernel["id"] and image["ramdisk_id"] == ramdisk["id"]

    def test_load_cloud_errors(self, tmp_path: Path) -> None:
        with pytest.raises(register.RegisterError):
            register.load_cloud(tmp_path / "missing.yaml")
        (tmp_path / "c.yaml").write_text("clouds: {other: {auth: {}}}\n")
        with pytest.raises(register.RegisterError, match="onestack"):
            register.load_cloud(tmp_path / "c.yaml")

    def test_unreachable_cloud(self, cached: Path, tmp_path: Path) -> None:
        auth = {"auth_url": "http://127.0.0.1:9/v3", "username": "a", "password": "b"}
        cloud = {"auth": {**auth, "project_name": "c"}}
        with pytest.raises(register.RegisterError):
            guest = register.GuestImage("onestack-test", cached)
            register.register_over_http(guest, cloud, register.Http(timeout=2))


def test_find_same() -> None:
    d = register.Digests(md5="m", sha512="s", size=1)
    assert register.find_same([{"status": "active", "os_hash_value": "s"}], d) is not None
    assert register.find_same([{"status": "queued", "os_hash_value": "s"}], d) is None
    assert register.find_same([{"status": "active", "checksum": "m"}], d) is not None
    assert (
        register.find_same([{"status": "active", "os_hash_value": "x", "checksum": "m"}], d) is None
    )


def test_cli_parses_build_test() -> None:
    args = parser().parse_args(["image", "build-test", "--force", "--output", "/x", "--register"])
    assert args.force and args.register and args.output == "/x"
    assert args.func.__name__ == "cmd_image_build"
    args = parser().parse_args(["image", "build-cloud", "--register"])
    assert args.image_command == "build-cloud" and args.register and not args.force


def test_the_cloud_image_registers_as_debian_12_with_a_guest_agent(tmp_path: Path) -> None:
    from onestack.image.cloudimage import CloudImage

    built = CloudImage(tmp_path / "d.qcow2", "k" * 64, False, 1.0, 1, {})
    guest = register.cloud_guest(built)
    assert guest.name == "debian-12"
    assert guest.properties["hw_qemu_guest_agent"] == "yes"
    assert guest.properties["os_admin_user"] == "debian"
    assert (guest.min_ram, guest.min_disk) == (256, 2)
