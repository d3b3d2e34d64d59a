"""Image uploads with several `onestack api` processes on one database and data dir: a
process's start (or its periodic check) resets only uploads whose process died."""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.bodies import password_body, project_name_scope
from tests.support.cloud import base_env, free_port, wait_serving
from tests.support.waiting import wait_for

OCTETS = {"Content-Type": "application/octet-stream"}
FIRST = b"a" * (5 * 1024 * 1024)  # more than one batch: the temp file is written


class Api:
    """One `onestack api` process."""

    def __init__(self, tmp: Path, data_dir: Path, env: dict[str, str], name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"{name}.log"
        argv = [sys.executable, "-m", "onestack", "api"]
        argv += ["--data-dir", str(data_dir), "--port", str(self.port)]
        self.proc = subprocess.Popen(
            argv, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT
        )
        wait_serving(self.url, self.proc, self.log)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(30)


class SlowUpload:
    """A PUT /file sending FIRST, then waiting for ``finish()`` before the last bytes."""

    def __init__(self, url: str, token: str) -> None:
        self.release = threading.Event()
        self.status: int | None = None
        headers = {**OCTETS, "X-Auth-Token": token}

        def body() -> Iterator[bytes]:
            yield FIRST
            self.release.wait(60)
            yield b"end"

        def send() -> None:
            with contextlib.suppress(httpx.HTTPError):
                self.status = httpx.put(
                    url, content=body(), headers=headers, timeout=90
                ).status_code

        self.thread = threading.Thread(target=send)
        self.thread.start()

    def finish(self) -> int | None:
        self.release.set()
        self.thread.join(60)
        return self.status


def token_of(url: str, data_dir: Path) -> str:
    password = json.loads((data_dir / "bootstrap.json").read_text())["admin_password"]
    body = password_body(password, name="admin", scope=project_name_scope("admin"))
    resp = httpx.post(f"{url}/identity/v3/auth/tokens", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"]


def test_a_live_upload_survives_another_process_start_and_a_dead_one_is_reset(
    tmp_path: Path, fresh_database: str | None
) -> None:
    data_dir = tmp_path / "data"
    temp_dir = data_dir / "images" / ".tmp"
    env = base_env(tmp_path, fresh_database)
    # Both processes check often: the live upload must survive those checks too.
    env["ONESTACK_IMAGE_UPLOAD_RECOVERY_INTERVAL"] = "0.3"
    first = Api(tmp_path, data_dir, env, "api0")
    apis = [first]
    try:
        token = token_of(first.url, data_dir)
        api = httpx.Client(headers={"X-Auth-Token": token}, timeout=30)
        body = {"name": "scale", "disk_format": "raw", "container_format": "bare"}

        def new_image(base: str) -> str:
            resp = api.post(f"{base}/image/v2/images", json=body)
            assert resp.status_code == 201, resp.text
            return str(resp.json()["id"])

        def status(base: str, image_id: str) -> str:
            return str(api.get(f"{base}/image/v2/images/{image_id}").json()["status"])

        image_id = new_image(first.url)
        upload = SlowUpload(f"{first.url}/image/v2/images/{image_id}/file", token)
        wait_for("the upload's temp file", lambda: any(temp_dir.glob(f"{image_id}.*")), 30, 0.05)
        assert status(first.url, image_id) == "saving"

        # A second process starts on the same database and data dir while it runs.
        second = Api(tmp_path, data_dir, env, "api1")
        apis.append(second)
        time.sleep(1)  # a few periodic checks in both processes
        assert status(second.url, image_id) == "saving"
        assert any(temp_dir.glob(f"{image_id}.*")), "another process's temp file was deleted"
        assert upload.finish() == 204
        image = api.get(f"{second.url}/image/v2/images/{image_id}").json()
        assert image["status"] == "active"
        assert image["checksum"] == hashlib.md5(FIRST + b"end", usedforsecurity=False).hexdigest()
        assert api.get(f"{second.url}/image/v2/images/{image_id}/file").content == FIRST + b"end"

        # The first process dies mid-upload: the second resets it without any restart.
        doomed = new_image(first.url)
        upload = SlowUpload(f"{first.url}/image/v2/images/{doomed}/file", token)
        wait_for("the upload's temp file", lambda: any(temp_dir.glob(f"{doomed}.*")), 30, 0.05)
        first.stop(signal.SIGKILL)
        upload.finish()
        wait_for(
            "the dead upload's reset", lambda: status(second.url, doomed) == "queued", 30, 0.05
        )
        wait_for("its temp file to go", lambda: not any(temp_dir.glob(f"{doomed}.*")), 30, 0.05)
        resp = api.put(
            f"{second.url}/image/v2/images/{doomed}/file", content=b"again", headers=OCTETS
        )
        assert resp.status_code == 204
        api.close()
    finally:
        for proc in apis:
            proc.stop()
