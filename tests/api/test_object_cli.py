"""Object Storage through the real clients a user runs: the ``swift`` command line
(python-swiftclient) and ``openstack container/object``, with Keystone tokens."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.objects import Account, account_fixture, swift

pytestmark = pytest.mark.cli

demo = account_fixture("onestack-demo")


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def test_upload_download_list_copy_delete(cloud: Cloud, tmp_path: Path) -> None:
    c = unique("c1")
    swift(cloud, "post", c)
    (tmp_path / "file.txt").write_bytes(b"hello swift\n")
    swift(cloud, "upload", c, "file.txt", cwd=tmp_path)
    stat = swift(cloud, "stat").stdout
    assert "Containers:" in stat and "Objects:" in stat
    swift(cloud, "download", c, "file.txt", "-o", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_bytes() == b"hello swift\n"
    part = swift(cloud, "download", c, "file.txt", "-o", "-", "--header", "Range: bytes=6-10")
    assert part.stdout == "swift"
    for name in ("dir/a", "dir/b", "other"):
        (tmp_path / "dir").mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(name.encode())
        swift(cloud, "upload", c, name, cwd=tmp_path)
    assert swift(cloud, "list", c, "--prefix", "dir/").stdout.split() == ["dir/a", "dir/b"]
    assert swift(cloud, "list", c, "--delimiter", "/").stdout.split() == [
        "dir/",
        "file.txt",
        "other",
    ]
    long = swift(cloud, "list", c, "--long", "--lh").stdout
    assert "file.txt" in long and "text/plain" in long
    swift(cloud, "copy", c, "file.txt", "--destination", f"/{c}/copy.txt")
    swift(cloud, "post", "-m", "color:blue", c, "copy.txt")
    assert "Meta Color: blue" in swift(cloud, "stat", c, "copy.txt").stdout
    swift(cloud, "delete", c)
    assert c not in swift(cloud, "list").stdout.split()


def test_static_and_dynamic_large_objects(cloud: Cloud, tmp_path: Path) -> None:
    c = unique("large")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 12345))
    swift(cloud, "upload", "--segment-size", "1048576", "--use-slo", c, "big.bin", cwd=tmp_path)
    stat = swift(cloud, "stat", c, "big.bin").stdout
    assert f"Content Length: {big.stat().st_size}" in stat
    swift(cloud, "download", c, "big.bin", "-o", str(tmp_path / "slo.out"))
    assert md5(tmp_path / "slo.out") == md5(big)
    part = swift(
        cloud,
        "download",
        c,
        "big.bin",
        "-o",
        str(tmp_path / "part.out"),
        "--header",
        "Range: bytes=1048570-1048580",
    )
    assert part.returncode == 0
    assert (tmp_path / "part.out").read_bytes() == big.read_bytes()[1048570:1048581]
    # The same file as a dynamic large object (X-Object-Manifest).
    swift(
        cloud,
        "upload",
        "--use-dlo",
        "--segment-size",
        "1048576",
        c,
        "big.bin",
        "--object-name",
        "dlo.bin",
        cwd=tmp_path,
    )
    assert "Manifest:" in swift(cloud, "stat", c, "dlo.bin").stdout
    swift(cloud, "download", c, "dlo.bin", "-o", str(tmp_path / "dlo.out"))
    assert md5(tmp_path / "dlo.out") == md5(big)
    swift(cloud, "delete", c, "big.bin")  # the manifest and its segments
    segments = swift(cloud, "list", f"{c}_segments").stdout.split()
    assert not any(s.startswith("big.bin/") for s in segments)


def test_public_read_and_project_acl(cloud: Cloud, demo: Account, tmp_path: Path) -> None:
    c = unique("shared")
    swift(cloud, "post", c)
    (tmp_path / "doc").write_bytes(b"document")
    swift(cloud, "upload", c, "doc", cwd=tmp_path)
    url = swift(cloud, "auth").stdout.split("OS_STORAGE_URL=")[1].split()[0]
    assert httpx.get(f"{url}/{c}/doc", timeout=30).status_code == 401
    swift(cloud, "post", "-r", ".r:*,.rlistings", c)
    assert httpx.get(f"{url}/{c}/doc", timeout=30).content == b"document"
    assert httpx.get(f"{url}/{c}", timeout=30).text == "doc\n"
    private = unique("private")
    swift(cloud, "post", private)
    swift(cloud, "upload", private, "doc", cwd=tmp_path)
    as_demo = ("--os-storage-url", url)
    assert (
        swift(cloud, *as_demo, "list", private, name="onestack-demo", check=False).returncode != 0
    )
    project = urlsplit(demo.url).path.rsplit("AUTH_", 1)[1]
    swift(cloud, "post", "-r", f"{project}:*", private)
    assert swift(cloud, *as_demo, "list", private, name="onestack-demo").stdout.split() == ["doc"]
    upload = swift(
        cloud, *as_demo, "upload", private, "doc", name="onestack-demo", cwd=tmp_path, check=False
    )
    assert "403" in upload.stderr + upload.stdout


def test_versions_and_history(cloud: Cloud, tmp_path: Path) -> None:
    versions, base = unique("v"), unique("base")
    swift(cloud, "post", versions)
    swift(cloud, "post", "-H", f"X-Versions-Location: {versions}", base)
    f = tmp_path / "o"
    for text in ("first", "second"):
        f.write_text(text)
        swift(cloud, "upload", base, "o", cwd=tmp_path)
    assert len(swift(cloud, "list", versions).stdout.split()) == 1
    swift(cloud, "delete", base, "o")
    assert swift(cloud, "download", base, "o", "-o", "-").stdout == "first"
    history, base2 = unique("h"), unique("base")
    swift(cloud, "post", history)
    swift(cloud, "post", "-H", f"X-History-Location: {history}", base2)
    swift(cloud, "upload", base2, "o", cwd=tmp_path)
    swift(cloud, "delete", base2, "o")
    assert len(swift(cloud, "list", history).stdout.split()) == 2  # the copy and a marker


def test_temp_url_key_and_tempurl(cloud: Cloud, tmp_path: Path) -> None:
    c = unique("tmp")
    swift(cloud, "post", c)
    (tmp_path / "file").write_bytes(b"temporary")
    swift(cloud, "upload", c, "file", cwd=tmp_path)
    swift(cloud, "post", "-m", "Temp-URL-Key:KEY")
    url = swift(cloud, "auth").stdout.split("OS_STORAGE_URL=")[1].split()[0]
    path = urlsplit(url).path.removeprefix("/object") + f"/{c}/file"
    signed = swift(cloud, "tempurl", "GET", "60", path, "KEY").stdout.strip()
    assert httpx.get(f"{cloud.url}/object{signed}", timeout=30).content == b"temporary"
    forged = signed.replace("temp_url_sig=", "temp_url_sig=f")[:-1]
    assert httpx.get(f"{cloud.url}/object{forged}", timeout=30).status_code == 401
    short = swift(cloud, "tempurl", "GET", "1", path, "KEY").stdout.strip()
    time.sleep(2.1)
    assert httpx.get(f"{cloud.url}/object{short}", timeout=30).status_code == 401


def test_capabilities_expiry_and_bulk_delete(cloud: Cloud, tmp_path: Path) -> None:
    caps = swift(cloud, "capabilities").stdout
    assert "bulk_delete" in caps and "slo" in caps and "tempurl" in caps
    c = unique("bulk")
    swift(cloud, "post", c)
    names = [f"n{i:02d}" for i in range(25)]
    for name in names:
        (tmp_path / name).write_text(name)
    swift(cloud, "upload", c, *names, cwd=tmp_path)
    (tmp_path / "ephemeral").write_text("soon gone")
    # Long enough for the listing below on a loaded machine (4 s was not), then polled.
    swift(cloud, "upload", c, "ephemeral", "-H", "X-Delete-After: 10", cwd=tmp_path)
    assert "ephemeral" in swift(cloud, "list", c).stdout.split()
    deadline = time.monotonic() + 30
    while "ephemeral" in swift(cloud, "list", c).stdout.split():
        assert time.monotonic() < deadline, "the object outlived its X-Delete-After"
        time.sleep(1)
    assert swift(cloud, "stat", c, "ephemeral", check=False).returncode != 0
    swift(cloud, "delete", c, *names)  # more than 10 objects: one bulk-delete request
    assert swift(cloud, "list", c).stdout.split() == []
    log = cloud.log.read_text()
    assert "?bulk-delete" in log or "POST /object/v1/AUTH_" in log


def test_openstack_container_and_object_commands(cloud: Cloud, tmp_path: Path) -> None:
    c = unique("osc")
    created = cloud.openstack("container", "create", c)
    assert created[0]["container"] == c
    assert c in [x["Name"] for x in cloud.openstack("container", "list")]
    cloud.openstack("container", "set", "--property", "team=blue", c, json_output=False)
    shown = cloud.openstack("container", "show", c)
    assert shown["properties"] == {"Team": "blue"} or shown["properties"] == {"team": "blue"}
    (tmp_path / "obj.txt").write_text("from osc")
    cloud.openstack("object", "create", c, str(tmp_path / "obj.txt"))
    listed = cloud.openstack("object", "list", c)
    assert [o["Name"] for o in listed] == [str(tmp_path / "obj.txt")]
    name = str(tmp_path / "obj.txt")
    cloud.openstack("object", "set", "--property", "k=v", c, name, json_output=False)
    shown = cloud.openstack("object", "show", c, name)
    assert shown["content-length"] == "8"
    cloud.openstack("object", "save", "--file", str(tmp_path / "saved"), c, name, json_output=False)
    assert (tmp_path / "saved").read_text() == "from osc"
    cloud.openstack("object", "delete", c, name, json_output=False)
    cloud.openstack("container", "delete", c, json_output=False)
    assert c not in [x["Name"] for x in cloud.openstack("container", "list")]


def test_archive_extraction_through_swift(cloud: Cloud, tmp_path: Path) -> None:
    import tarfile

    c = unique("tar")
    swift(cloud, "post", c)
    (tmp_path / "t").mkdir()
    for i in range(3):
        (tmp_path / "t" / f"f{i}").write_text(str(i))
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "t", arcname="t")
    url = swift(cloud, "auth").stdout.split("OS_STORAGE_URL=")[1].split()[0]
    token = swift(cloud, "auth").stdout.split("OS_AUTH_TOKEN=")[1].split()[0]
    resp = httpx.put(
        f"{url}/{c}?extract-archive=tar.gz",
        content=archive.read_bytes(),
        headers={"X-Auth-Token": token, "Accept": "application/json"},
        timeout=30,
    )
    assert resp.json()["Number Files Created"] == 3
    assert swift(cloud, "list", c).stdout.split() == ["t/f0", "t/f1", "t/f2"]
