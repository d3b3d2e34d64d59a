"""The image store seam and the upload pass: the file store's contract, one-pass hashing,
header parsing, ranges and JSON-patch parsing."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import struct
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from onestack.common import errors
from onestack.common.dataio import diskwrite
from onestack.common.dataio.pipeline import Block
from onestack.image.drivers.file import FileStore, FileWriter
from onestack.image.faults import RangeNotSatisfiable
from onestack.image.formats import virtual_size
from onestack.image.service.data import parse_range
from onestack.image.service.images import parse_patch
from onestack.image.service.ingest import BLOCK, IN_FLIGHT, ingest, normalize_md5


async def chunks(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def too_large(limit: int) -> errors.OneStackError:
    return errors.PayloadTooLarge(f"over {limit}")


def collect(store: FileStore, location: str, offset: int = 0, length: int | None = None) -> bytes:
    async def run() -> bytes:
        return b"".join([b async for b in store.read(location, offset, length)])

    return asyncio.run(run())


def test_reads_span_blocks_at_any_offset(tmp_path: Path) -> None:
    """Reads are mapped blocks: unaligned offsets, ranges across a block boundary, the
    tail, an empty image; views stay valid after the store closed the file."""
    from onestack.image.drivers.file import READ_BLOCK

    data = bytes(range(251)) * (READ_BLOCK // 251 * 2 + 7)  # two blocks and a bit
    (tmp_path / "big").write_bytes(data)
    store = FileStore(tmp_path)
    location = str(tmp_path / "big")
    assert collect(store, location) == data
    assert collect(store, location, 4097, READ_BLOCK) == data[4097 : 4097 + READ_BLOCK]
    assert collect(store, location, READ_BLOCK - 3, 10) == data[READ_BLOCK - 3 : READ_BLOCK + 7]
    assert collect(store, location, len(data) - 5) == data[-5:]
    (tmp_path / "empty").write_bytes(b"")
    assert collect(store, str(tmp_path / "empty")) == b""

    async def first_block() -> bytes | memoryview:
        reader = store.read(location)
        block = await anext(reader)
        await reader.aclose()
        return block

    kept = asyncio.run(first_block())
    (tmp_path / "big").unlink()  # a delete while the transport still holds a block
    assert bytes(kept[:100]) == data[:100]


def test_ingest_hashes_in_one_pass_and_commits(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    # More than the lanes hold at once (the loop waits for them), and a tail: blocks of
    # 64 KiB chunks are never joined, so each lane sees them in order or the digests differ.
    data = os.urandom(IN_FLIGHT * 2 + BLOCK // 2 + 3)
    got = asyncio.run(
        ingest(chunks(data), store.writer("img"), limit=len(data), too_large=too_large)
    )
    assert got.size == len(data)
    assert got.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert got.os_hash_value == hashlib.sha512(data).hexdigest()
    assert got.header == data[:512]
    assert Path(got.location) == tmp_path / "img"
    assert collect(store, got.location) == data
    assert collect(store, got.location, 10, 20) == data[10:30]
    assert list((tmp_path / ".tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"expected_size": 5}, errors.BadRequest),
        ({"expected_md5": "0" * 32}, errors.BadRequest),
        ({"limit": 100}, errors.PayloadTooLarge),
    ],
)
def test_failed_ingest_leaves_nothing(
    tmp_path: Path, kwargs: dict[str, object], error: type
) -> None:
    store = FileStore(tmp_path)
    data = b"z" * 5000
    args: dict[str, object] = {"limit": 10**6, **kwargs}
    with pytest.raises(error):
        asyncio.run(ingest(chunks(data), store.writer("img"), too_large=too_large, **args))  # type: ignore[arg-type]
    assert not (tmp_path / "img").exists()
    assert list((tmp_path / ".tmp").iterdir()) == []


class _LoopWriter(FileWriter):
    """A store without a blocking write lane: the upload awaits ``write`` from the loop."""

    def lane(self) -> None:
        return None


def test_ingest_through_a_store_without_a_write_lane(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    data = os.urandom(BLOCK * 3 + 5)
    got = asyncio.run(
        ingest(chunks(data), _LoopWriter(store, "img"), limit=len(data), too_large=too_large)
    )
    assert got.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert got.os_hash_value == hashlib.sha512(data).hexdigest()
    assert collect(store, got.location) == data


def test_a_failed_write_lane_aborts_the_upload_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(tmp_path)
    real = diskwrite.write_chunks
    calls = 0

    def full_disk(fd: int, block: Block) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, block)

    monkeypatch.setattr(diskwrite, "write_chunks", full_disk)
    data = b"d" * (IN_FLIGHT * 2)
    with pytest.raises(OSError) as failed:
        asyncio.run(ingest(chunks(data), store.writer("img"), limit=len(data), too_large=too_large))
    assert failed.value.errno == errno.ENOSPC
    assert calls == 3  # the lanes stopped at the error: no block written after it
    assert not (tmp_path / "img").exists()
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_a_client_gone_mid_upload_leaves_nothing(tmp_path: Path) -> None:
    store = FileStore(tmp_path)

    async def cut_off() -> AsyncIterator[bytes]:
        async for chunk in chunks(os.urandom(IN_FLIGHT + BLOCK * 3)):
            yield chunk
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        asyncio.run(ingest(cut_off(), store.writer("img"), limit=1 << 40, too_large=too_large))
    assert not (tmp_path / "img").exists()
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_temporary_files_are_cleaned_and_discarded(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    (tmp_path / ".tmp" / "half.abcd").write_bytes(b"half")
    (tmp_path / ".tmp" / "other.ef01").write_bytes(b"another upload's")
    (tmp_path / "orphan").write_bytes(b"x")
    assert asyncio.run(store.temporary_ids()) == {"half", "other"}
    assert asyncio.run(store.clean_temporary("half")) == 1
    assert asyncio.run(store.temporary_ids()) == {"other"}  # only that image's
    assert asyncio.run(store.stored_ids()) == {"orphan"}
    asyncio.run(store.discard("orphan"))
    assert not (tmp_path / "orphan").exists()
    with pytest.raises(ValueError):
        store.local_path("/etc/passwd")


def test_virtual_size_from_real_headers(tmp_path: Path) -> None:
    path = tmp_path / "d.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-f", "qcow2", str(path), "3G"], check=True, capture_output=True
    )
    header = path.read_bytes()[:512]
    assert virtual_size("qcow2", header, 1234) == 3 * 1024**3
    assert virtual_size("raw", header, 1234) == 1234
    assert virtual_size("qcow2", b"not a qcow2", 11) is None
    assert virtual_size("vhd", header, 1234) is None
    backed = bytearray(header)
    struct.pack_into(">Q", backed, 8, 4096)
    with pytest.raises(errors.BadRequest):
        virtual_size("qcow2", bytes(backed), 1234)


def test_ranges() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-9", 100) == (0, 10)
    assert parse_range("bytes=90-", 100) == (90, 10)
    assert parse_range("bytes=-5", 100) == (95, 5)
    assert parse_range("bytes=50-500", 100) == (50, 50)
    assert parse_range("bytes=1-2,5-6", 100) is None  # several ranges: the whole image
    for bad in ("bytes=100-", "bytes=5-2", "bytes=-0"):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(bad, 100)


def test_content_md5_forms() -> None:
    digest = hashlib.md5(b"abc", usedforsecurity=False)
    assert normalize_md5(digest.hexdigest().upper()) == digest.hexdigest()
    import base64

    assert normalize_md5(base64.b64encode(digest.digest()).decode()) == digest.hexdigest()
    with pytest.raises(errors.BadRequest):
        normalize_md5("***")


def test_patch_parsing() -> None:
    ops = parse_patch(
        [
            {"op": "add", "path": "/k", "value": "v"},
            {"op": "replace", "path": "/min_ram", "value": 5},
            {"op": "remove", "path": "/k"},
            {"op": "add", "path": "/tags/-", "value": "t"},
        ]
    )
    assert [(o.op, o.attr) for o in ops] == [
        ("add", "k"),
        ("replace", "min_ram"),
        ("remove", "k"),
        ("tag-add", "-"),
    ]
    with pytest.raises(errors.Forbidden):
        parse_patch([{"op": "replace", "path": "/checksum", "value": "x"}])
    with pytest.raises(errors.Forbidden):
        parse_patch([{"op": "add", "path": "/os_glance_x", "value": "x"}])
    with pytest.raises(errors.BadRequest):
        parse_patch([{"op": "move", "path": "/k"}])
    with pytest.raises(errors.BadRequest):
        parse_patch([{"op": "add", "path": "/k", "value": 3}])
    with pytest.raises(errors.BadRequest):
        parse_patch({"op": "add"})
