"""Object Storage end to end on the real disk store: a 2 GiB object goes up and comes back
byte-identical (md5) while the server's memory stays flat (bodies stream both ways; nothing
holds an object whole), and a restart finds it (files and listings agree)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import new_cloud
from tests.support.objects import account_url

pytestmark = pytest.mark.slow

SIZE = 2 * 1024**3
BLOCK = 4 * 1024 * 1024
RSS_GROWTH_LIMIT_MIB = 96


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Watch(threading.Thread):
    """The highest RSS of ``pid`` while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.05)


def make_file(path: Path) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    block = os.urandom(BLOCK)
    with open(path, "wb") as f:
        for i in range(SIZE // BLOCK):
            data = i.to_bytes(8, "little") + block[8:]
            f.write(data)
            md5.update(data)
    return md5.hexdigest()


def test_two_gib_object_streams_with_flat_memory(tmp_path: Path) -> None:
    if os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize < 3 * SIZE:
        pytest.skip("needs 6 GiB free for the file, the object and the copy back")
    cloud = new_cloud(tmp_path / "cloud", None)
    cloud.start()
    try:
        source = tmp_path / "big.bin"
        digest = make_file(source)
        token = cloud.token()
        url = account_url(cloud, token)
        auth = ["-H", f"X-Auth-Token: {token}"]
        httpx.put(f"{url}/big", headers={"X-Auth-Token": token}, timeout=30).raise_for_status()
        assert cloud.process is not None
        pid = cloud.process.pid
        before = rss_mib(pid)
        watch = Watch(pid)
        watch.start()
        put = subprocess.run(
            [
                "curl",
                "-sS",
                "--fail",
                *auth,
                "-H",
                "Expect:",
                "-T",
                str(source),
                "-D",
                "-",
                "-o",
                "/dev/null",
                f"{url}/big/object",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert digest in put.stdout.lower()  # the ETag: md5 of what arrived
        back = tmp_path / "back.bin"
        subprocess.run(
            ["curl", "-sS", "--fail", *auth, "-o", str(back), f"{url}/big/object"], check=True
        )
        watch.done.set()
        watch.join()
        source.unlink()
        md5 = hashlib.md5(usedforsecurity=False)
        with open(back, "rb") as f:
            while block := f.read(BLOCK):
                md5.update(block)
        assert md5.hexdigest() == digest
        back.unlink()
        assert watch.peak - before < RSS_GROWTH_LIMIT_MIB, (before, watch.peak)
        cloud.stop()
        cloud.start()
        head = httpx.head(f"{url}/big/object", headers={"X-Auth-Token": cloud.token()}, timeout=30)
        assert head.headers["content-length"] == str(SIZE)
        assert head.headers["etag"] == digest
    finally:
        cloud.stop()
