"""The ``fake`` store: everything in memory, same semantics as ``disk`` (for tests and for
clouds that need no object data to outlive the process)."""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from onestack.object.drivers import paging
from onestack.object.drivers.base import (
    AccountInfo,
    Chunk,
    ContainerEntry,
    ContainerInfo,
    ContainerNotEmpty,
    EtagMismatch,
    Expiring,
    Listing,
    NotFound,
    ObjectEntry,
    ObjectInfo,
    ObjectStore,
    ObjectWriter,
    OpenObject,
    Subdir,
    listed_type,
)


def _merge(stored: dict[str, str], changes: dict[str, str]) -> dict[str, str]:
    out = dict(stored)
    for key, value in changes.items():
        if value == "":
            out.pop(key, None)
        else:
            out[key] = value
    return out


@dataclass
class _Container:
    created: float
    put_timestamp: float
    metadata: dict[str, str]
    policy: str
    objects: dict[str, tuple[ObjectInfo, bytes]] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # sorted
    listed: dict[str, int] = field(default_factory=dict)  # the listing's sizes (manifests)

    def used(self) -> int:
        return sum(self.listed.get(n, i.size) for n, (i, _) in self.objects.items())


@dataclass
class _Account:
    created: float
    metadata: dict[str, str] = field(default_factory=dict)
    containers: dict[str, _Container] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


def _in(name: str, lower: paging.Bound | None, upper: paging.Bound | None) -> bool:
    if lower is not None and (name < lower.value or (name == lower.value and not lower.inclusive)):
        return False
    return not (
        upper is not None and (name > upper.value or (name == upper.value and not upper.inclusive))
    )


def _slice(
    names: list[str], lower: paging.Bound | None, upper: paging.Bound | None, reverse: bool
) -> list[str]:
    lo = 0 if lower is None else bisect.bisect_left(names, lower.value)
    hi = len(names) if upper is None else bisect.bisect_right(names, upper.value)
    picked = [n for n in names[lo:hi] if _in(n, lower, upper)]
    return picked[::-1] if reverse else picked


class FakeWriter(ObjectWriter):
    def __init__(self, store: FakeStore, account: str, container: str, name: str) -> None:
        self.store, self.account, self.container, self.name = store, account, container, name
        self.size = 0
        self.etag = ""
        self._chunks: list[bytes] = []

    async def write(self, data: Chunk) -> None:
        self._chunks.append(bytes(data))
        self.size += len(data)

    async def commit(
        self,
        *,
        content_type: str,
        metadata: dict[str, str],
        timestamp: float,
        etag: str = "",
        expect_md5: str | None = None,
        listed_size: int | None = None,
    ) -> ObjectInfo:
        body = b"".join(self._chunks)
        md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
        if expect_md5 is not None and expect_md5 != md5:
            raise EtagMismatch(md5)
        self.etag = etag or md5
        info = ObjectInfo(
            self.name, len(body), self.etag, content_type, timestamp, timestamp, dict(metadata)
        )
        box = self.store._container(self.account, self.container)
        box.listed[self.name] = len(body) if listed_size is None else listed_size
        old = box.objects.get(self.name)
        if old is None or old[0].timestamp <= timestamp:
            if old is None:
                bisect.insort(box.names, self.name)
            box.objects[self.name] = (info, body)
        delete_at = metadata.get("x-delete-at")
        if delete_at:
            entry = Expiring(self.account, self.container, self.name, float(delete_at), timestamp)
            self.store.queue.add(entry)
        return info

    async def abort(self) -> None:
        self._chunks = []


class FakeOpen(OpenObject):
    def __init__(self, info: ObjectInfo, body: bytes) -> None:
        self.info, self.body = info, body

    async def read(self, offset: int = 0, length: int | None = None) -> AsyncIterator[Chunk]:
        end = len(self.body) if length is None else min(len(self.body), offset + length)
        if end > offset:
            yield self.body[offset:end]

    async def close(self) -> None:
        pass


class FakeStore(ObjectStore):
    name = "fake"

    def __init__(self) -> None:
        self.accounts: dict[str, _Account] = {}
        self.queue: set[Expiring] = set()

    def _account(self, account: str, timestamp: float | None = None) -> _Account:
        got = self.accounts.get(account)
        if got is None:
            if timestamp is None:
                raise NotFound(account)
            got = self.accounts[account] = _Account(created=timestamp)
        return got

    def _container(self, account: str, container: str) -> _Container:
        got = self.accounts.get(account)
        box = None if got is None else got.containers.get(container)
        if box is None:
            raise NotFound(container)
        return box

    async def account_info(self, account: str) -> AccountInfo | None:
        got = self.accounts.get(account)
        if got is None:
            return None
        boxes = got.containers.values()
        return AccountInfo(
            account,
            len(got.containers),
            sum(len(b.objects) for b in boxes),
            sum(b.used() for b in boxes),
            got.created,
            dict(got.metadata),
        )

    async def update_account(
        self, account: str, metadata: dict[str, str], timestamp: float
    ) -> None:
        got = self._account(account, timestamp)
        got.metadata = _merge(got.metadata, metadata)

    async def list_containers(
        self, account: str, listing: Listing
    ) -> list[ContainerEntry | Subdir]:
        got = self.accounts.get(account)
        if got is None:
            return []

        def fetch(
            lower: paging.Bound | None, upper: paging.Bound | None, limit: int, reverse: bool
        ) -> list[ContainerEntry]:
            out = []
            for name in _slice(got.names, lower, upper, reverse)[:limit]:
                box = got.containers[name]
                size = box.used()
                out.append(ContainerEntry(name, len(box.objects), size, box.put_timestamp))
            return out

        return paging.walk(fetch, listing)

    async def create_container(
        self, account: str, container: str, metadata: dict[str, str], policy: str, timestamp: float
    ) -> bool:
        got = self._account(account, timestamp)
        box = got.containers.get(container)
        if box is None:
            got.containers[container] = _Container(
                timestamp, timestamp, _merge({}, metadata), policy
            )
            bisect.insort(got.names, container)
            return True
        box.metadata = _merge(box.metadata, metadata)
        return False

    async def container_info(self, account: str, container: str) -> ContainerInfo | None:
        try:
            box = self._container(account, container)
        except NotFound:
            return None
        return ContainerInfo(
            container,
            len(box.objects),
            box.used(),
            box.created,
            box.put_timestamp,
            dict(box.metadata),
            box.policy,
        )

    async def update_container(
        self, account: str, container: str, metadata: dict[str, str], timestamp: float
    ) -> None:
        box = self._container(account, container)
        box.metadata = _merge(box.metadata, metadata)
        box.put_timestamp = max(box.put_timestamp, timestamp)

    async def delete_container(self, account: str, container: str) -> None:
        box = self._container(account, container)
        if box.objects:
            raise ContainerNotEmpty(container)
        got = self.accounts[account]
        del got.containers[container]
        got.names.remove(container)

    async def list_objects(
        self, account: str, container: str, listing: Listing
    ) -> list[ObjectEntry | Subdir]:
        box = self._container(account, container)

        def fetch(
            lower: paging.Bound | None, upper: paging.Bound | None, limit: int, reverse: bool
        ) -> list[ObjectEntry]:
            out: list[ObjectEntry] = []
            for name in _slice(box.names, lower, upper, reverse):
                info = box.objects[name][0]
                at = info.metadata.get("x-delete-at")
                if listing.now and at and float(at) <= listing.now:
                    continue
                out.append(
                    ObjectEntry(
                        name,
                        box.listed.get(name, info.size),
                        info.etag,
                        listed_type(info),
                        info.timestamp,
                    )
                )
                if len(out) >= limit:
                    break
            return out

        return paging.walk(fetch, listing)

    def writer(self, account: str, container: str, name: str) -> ObjectWriter:
        return FakeWriter(self, account, container, name)

    def _get(self, account: str, container: str, name: str) -> tuple[ObjectInfo, bytes]:
        got = self._container(account, container).objects.get(name)
        if got is None:
            raise NotFound(name)
        return got

    async def open_object(self, account: str, container: str, name: str) -> OpenObject:
        return FakeOpen(*self._get(account, container, name))

    async def object_info(self, account: str, container: str, name: str) -> ObjectInfo:
        return self._get(account, container, name)[0]

    async def update_object(
        self,
        account: str,
        container: str,
        name: str,
        *,
        content_type: str,
        metadata: dict[str, str],
        timestamp: float,
    ) -> ObjectInfo:
        info, body = self._get(account, container, name)
        info = replace(
            info, content_type=content_type, metadata=dict(metadata), meta_timestamp=timestamp
        )
        self._container(account, container).objects[name] = (info, body)
        if metadata.get("x-delete-at"):
            at = float(metadata["x-delete-at"])
            self.queue.add(Expiring(account, container, name, at, info.timestamp))
        return info

    async def delete_object(
        self, account: str, container: str, name: str, timestamp: float
    ) -> ObjectInfo:
        info, _ = self._get(account, container, name)
        box = self._container(account, container)
        del box.objects[name]
        box.names.remove(name)
        box.listed.pop(name, None)
        return info

    async def due(self, now: float, limit: int = 1000) -> list[Expiring]:
        return sorted((e for e in self.queue if e.delete_at <= now), key=lambda e: e.delete_at)[
            :limit
        ]

    async def forget_due(self, entry: Expiring) -> None:
        self.queue.discard(entry)
