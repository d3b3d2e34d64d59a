"""The guest's shell and awk helpers, run on the host under the same busybox the guest has."""

from __future__ import annotations

import http.server
import io
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pycdlib
import pytest

from onestack.image.testimage import initramfs

BUSYBOX = shutil.which("busybox")
pytestmark = pytest.mark.skipif(BUSYBOX is None, reason="busybox is not installed")


def package_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(initramfs.guest_file(name))
    return path


def sh(tmp_path: Path, script: str, env: dict[str, str] | None = None) -> str:
    lib = package_file(tmp_path, "lib.sh")
    done = subprocess.run(
        [str(BUSYBOX), "sh", "-c", f". {lib}\n{script}"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "TMPDIR": str(tmp_path), **(env or {})},
        check=True,
    )
    return done.stdout


def flatten(tmp_path: Path, document: str) -> list[str]:
    awk = package_file(tmp_path, "metadata.awk")
    done = subprocess.run(
        [str(BUSYBOX), "awk", "-f", str(awk)],
        input=document,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


class TestMetadataParsing:
    def test_nova_meta_data(self, tmp_path: Path) -> None:
        meta = {
            "uuid": "d8e02d56-2648-49a3-bf97-6be8f1204f38",
            "hostname": "vm-1.novalocal",
            "name": "vm 1",
            "public_keys": {"mykey": "ssh-ed25519 AAAAC3Nza me@host\n", "k2": "ssh-rsa AAAB x"},
            "keys": [{"name": "mykey", "type": "ssh", "data": "ssh-ed25519 AAAAC3Nza me@host\n"}],
            "meta": {"role": "web"},
            "launch_index": 0,
            "availability_zone": None,
            "devices": [],
        }
        lines = flatten(tmp_path, json.dumps(meta))
        assert "uuid=d8e02d56-2648-49a3-bf97-6be8f1204f38" in lines
        assert "hostname=vm-1.novalocal" in lines
        assert "name=vm 1" in lines
        assert "public_keys.mykey=ssh-ed25519 AAAAC3Nza me@host" in lines
        assert "public_keys.k2=ssh-rsa AAAB x" in lines
        assert "keys.0.data=ssh-ed25519 AAAAC3Nza me@host" in lines
        assert "meta.role=web" in lines
        assert "launch_index=0" in lines
        assert not any(line.startswith("availability_zone") for line in lines)

    def test_pretty_printed_and_escapes(self, tmp_path: Path) -> None:
        doc = json.dumps({"hostname": 'a"b\\c', "s": "x\u00e9\u0041", "e": {}}, indent=2)
        lines = flatten(tmp_path, doc)
        assert lines == ['hostname=a"b\\c', "s=x?A"]

    def test_shell_lookups(self, tmp_path: Path) -> None:
        flat = tmp_path / "flat"
        flat.write_text("hostname=h1\nname=n1\npublic_keys.a=ssh-rsa K1 c\npublic_keys.b=K2\n")
        out = sh(tmp_path, f"meta_get {flat} hostname; meta_get {flat} missing; meta_keys {flat}")
        assert out.splitlines() == ["h1", "ssh-rsa K1 c", "K2"]


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
@pytest.mark.parametrize(
    ("kind", "bits", "comment"),
    [
        ("rsa", "3072", "rsa key"),
        ("rsa", "1025", "odd"),
        ("ed25519", None, ""),
        ("ecdsa", "384", "e"),
    ],
)
def test_fingerprint_matches_ssh_keygen(
    tmp_path: Path, kind: str, bits: str | None, comment: str
) -> None:
    key = tmp_path / "key"
    argv = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", str(key)]
    subprocess.run([*argv, *(["-b", bits] if bits else [])], check=True)
    expected = subprocess.run(
        ["ssh-keygen", "-l", "-E", "md5", "-f", f"{key}.pub"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    line = key.with_suffix(".pub").read_text().strip()
    assert sh(tmp_path, f"fingerprint '{line}'").strip() == expected


def test_iso_label(tmp_path: Path) -> None:
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, vol_ident="config-2")
    iso.add_fp(io.BytesIO(b"x"), 1, "/A.;1")
    path = tmp_path / "cd.iso"
    iso.write(str(path))
    iso.close()
    assert sh(tmp_path, f"iso_label {path}").strip() == "config-2"


@pytest.mark.parametrize(
    ("tries", "expected"), [("1", "wget"), ("3", "wget sleep wget sleep wget")]
)
def test_fetch_pauses_between_tries_only(tmp_path: Path, tries: str, expected: str) -> None:
    """A failed GET is tried FETCH_TRIES times with a pause between tries and none after the
    last: a guest without user data (a 404, asked for once) goes on at once."""
    script = (
        'timeout() { shift; "$@"; }\n'
        "wget() { printf 'wget '; return 1; }\n"
        "sleep() { printf 'sleep '; }\n"
        f"FETCH_TRIES={tries} fetch http://169.254.169.254/x {tmp_path}/out || printf failed"
    )
    assert sh(tmp_path, script) == f"{expected} failed"
    assert not (tmp_path / "out").exists()


def fake_pci(sysfs: Path, slot: str, vendor: str, device: str, cls: str) -> None:
    dev = sysfs / "bus" / "pci" / "devices" / slot
    dev.mkdir(parents=True)
    for name, value in (("vendor", vendor), ("device", device), ("class", cls)):
        (dev / name).write_text(f"{value}\n")


def test_pci_presence(tmp_path: Path) -> None:
    """q35's AHCI (class 0x0106) is no IDE controller; PIIX IDE (0x0101) and virtio-scsi are
    found by class and by vendor/device id."""
    sysfs = tmp_path / "sys"
    fake_pci(sysfs, "0000:00:1f.2", "0x8086", "0x2922", "0x010601")
    fake_pci(sysfs, "0000:00:02.0", "0x1af4", "0x1042", "0x010000")
    env = {"SYSFS": str(sysfs)}
    probe = (
        "pci_class_present 0x0101 && echo ide; "
        "pci_device_present 0x1af4 0x1004 0x1048 && echo scsi; echo done"
    )
    assert sh(tmp_path, probe, env).split() == ["done"]
    fake_pci(sysfs, "0000:00:01.1", "0x8086", "0x7010", "0x010180")
    fake_pci(sysfs, "0000:00:03.0", "0x1af4", "0x1048", "0x010000")
    assert sh(tmp_path, probe, env).split() == ["ide", "scsi", "done"]


def test_load_modules_skips_loaded_ones(tmp_path: Path) -> None:
    """Modules shared by two lists (scsi_mod) are loaded once; a failure is logged and the
    rest still load."""
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "ide.list").write_text("scsi_mod.ko\nata_piix.ko\nbroken.ko\n")
    (tmp_path / "sys" / "module" / "scsi_mod").mkdir(parents=True)
    script = (
        'insmod() { case $1 in *broken.ko) echo "bad module" >&2; return 1 ;; esac; '
        'echo "insmod $1"; }\n'
        "MODULES_LOADED=0; load_modules ide.list; echo loaded $MODULES_LOADED"
    )
    env = {"SYSFS": str(tmp_path / "sys"), "MODULES_DIR": str(modules), "STATE": str(tmp_path)}
    assert sh(tmp_path, script, env).splitlines() == [
        f"insmod {modules}/ata_piix.ko",
        "onestack-guest: module broken.ko failed: bad module",
        "loaded 1",
    ]


class TestDhcpScript:
    def run(self, tmp_path: Path, **env: str) -> tuple[list[str], str]:
        """The udhcpc script with a fake `ip` that records its calls.

        Never under busybox sh: it runs its own `ip` applet before any on PATH, which would
        reconfigure the host's interface. /bin/sh searches PATH; as root the script also runs
        in a network namespace of its own, so even a mistake cannot reach the host.
        """
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        calls = tmp_path / "calls"
        fake_ip = bin_dir / "ip"
        fake_ip.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
        fake_ip.chmod(0o755)
        resolv = tmp_path / "resolv.conf"
        script = package_file(tmp_path, "udhcpc.sh")
        isolate = ["unshare", "--net"] if os.geteuid() == 0 and shutil.which("unshare") else []
        subprocess.run(
            [*isolate, "/bin/sh", str(script), "bound"],
            env={
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "RESOLV_CONF": str(resolv),
                "interface": "eth0",
                "ip": "10.0.0.5",
                "mask": "24",
                **env,
            },
            check=True,
            capture_output=True,
        )
        return calls.read_text().splitlines(), resolv.read_text()

    def test_router_and_dns(self, tmp_path: Path) -> None:
        calls, resolv = self.run(tmp_path, router="10.0.0.1", dns="10.0.0.2 10.0.0.3", mtu="1450")
        assert "link set dev eth0 mtu 1450" in calls
        assert "-4 addr add 10.0.0.5/24 dev eth0" in calls
        assert "-4 route replace default via 10.0.0.1 dev eth0" in calls
        assert resolv == "nameserver 10.0.0.2\nnameserver 10.0.0.3\n"

    def test_classless_routes_win_over_router(self, tmp_path: Path) -> None:
        routes = "169.254.169.254/32 10.0.0.2 0.0.0.0/0 10.0.0.1 10.9.0.0/16 0.0.0.0"
        calls, _ = self.run(tmp_path, router="10.0.0.99", staticroutes=routes)
        assert "-4 route replace 169.254.169.254/32 via 10.0.0.2 dev eth0" in calls
        assert "-4 route replace default via 10.0.0.1 dev eth0" in calls
        assert "-4 route replace 10.9.0.0/16 dev eth0" in calls
        assert not any("10.0.0.99" in c for c in calls)


def parses(path: Path) -> subprocess.CompletedProcess[str]:
    """``busybox sh -n``: the guest's own shell reads the script without running it."""
    return subprocess.run(
        [str(BUSYBOX), "sh", "-n", str(path)], capture_output=True, text=True, check=False
    )


def test_init_script_parses(tmp_path: Path) -> None:
    for name in ("init.sh", "lib.sh", "udhcpc.sh", "curl.sh"):
        path = package_file(tmp_path, name)
        result = parses(path)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        # The check can fail: the same script with one unclosed `if` does not parse.
        broken = tmp_path / f"broken-{name}"
        broken.write_text(path.read_text() + "\nif true; then\n")
        assert parses(broken).returncode != 0, f"sh -n accepted a broken {name}"


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_curl_sends_the_curl_cli_headers(tmp_path: Path) -> None:
    """A Heat wait condition handle's curl_cli line, run by the guest's curl (busybox wget):
    the token header and the body arrive (quotes inside a header survive)."""
    curl = package_file(tmp_path, "curl.sh")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/p/signal"
        body = '{"status": "SUCCESS", "data": "test complete"}'
        line = (
            f"sh {curl} -i -X POST -H 'X-Auth-Token: a'\"'\"'b$c' "
            f"-H 'Content-Type: application/json' -H 'Accept: application/json' {url}"
        )
        done = subprocess.run(
            [str(BUSYBOX), "sh", "-c", f"{line} --data-binary '{body}'"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    finally:
        server.shutdown()
    assert done.returncode == 0 and done.stdout == "ok", done.stderr
    path, headers, sent = _Recorder.seen[-1]
    assert path == "/v1/p/signal" and sent.decode() == body
    assert headers["X-Auth-Token"] == "a'b$c" and headers["Content-Type"] == "application/json"
