"""What the other services send compute, declared as ``validation.NovaBody`` models: external
events (``os-server-external-events``, from networking and block storage) and assisted volume
snapshots (``os-assisted-volume-snapshots``, from block storage). Nova refuses their bad
bodies with its legacy words (``Invalid input for field/attribute x.``, with the value for
some); each keeps the words its handler has always answered with, in the order it checked
them, every event before any server is looked for."""

from __future__ import annotations

from typing import Annotated, Any

from onestack.common import errors
from onestack.common.microversion import APIVersion
from onestack.compute.proxy_schemas import attribute
from onestack.compute.validation import Check, NovaBody, OneMember, Since

# --- os-server-external-events ---------------------------------------------------------------

# Each event's name, with the microversion 2.x it is known from.
NAMES = {
    "network-changed": 0,
    "network-vif-plugged": 0,
    "network-vif-unplugged": 0,
    "network-vif-deleted": 0,
    "volume-extended": 51,
    "power-update": 76,
    "accelerator-request-bound": 82,
    "volume-reimaged": 93,
}
STATUSES = ("failed", "completed", "in-progress")
EVENT_MEMBERS = {"name", "server_uuid", "status", "tag"}


def no_object(field: str) -> errors.BadRequest:
    return errors.BadRequest(f"Invalid input for field/attribute {field}.")


def event(raw: Any, names: frozenset[str]) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) - EVENT_MEMBERS:
        raise no_object("events")
    name = raw.get("name")
    if name not in names:
        raise attribute("name", name)
    if not isinstance(raw.get("server_uuid"), str):
        raise no_object("server_uuid")
    status = raw.get("status", "completed")
    if status not in STATUSES:
        raise attribute("status", status)
    tag = raw.get("tag")
    if tag is not None and (not isinstance(tag, str) or len(tag) > 255):
        raise no_object("tag")
    out = {"name": name, "server_uuid": raw["server_uuid"], "status": status}
    return out if tag is None else {**out, "tag": tag}


def events_of(names: frozenset[str]) -> Check:
    """A non-empty list of events, each named by one of ``names``."""

    def check(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = body.get(key)
        if not isinstance(value, list) or not value:
            raise no_object(key)
        return [event(raw, names) for raw in value]

    return check


def events_by_version() -> Check | Since:
    """The events check of each microversion that named new events."""
    chain: Check | Since = events_of(frozenset(n for n, since in NAMES.items() if since == 0))
    for minor in sorted({since for since in NAMES.values() if since}):
        known = frozenset(n for n, since in NAMES.items() if since <= minor)
        chain = Since(minor, events_of(known), chain)
    return chain


class ExternalEvents(OneMember):
    """``POST /os-server-external-events``."""

    wrapper = "events"

    events: Annotated[list[dict[str, Any]], events_by_version()]


# --- os-assisted-volume-snapshots ------------------------------------------------------------

CREATE_INFO = {"snapshot_id", "type", "new_file", "id"}


def text(holder: dict[str, Any], key: str) -> str:
    value = holder.get(key)
    if not isinstance(value, str) or not value:
        raise attribute(key, value)
    return value


def check_text(body: dict[str, Any], key: str) -> str:
    return text(body, key)


def check_create_info(body: dict[str, Any], key: str) -> dict[str, Any]:
    """A qcow2 snapshot's file: its snapshot's id and the new file's name (its optional
    ``id`` is checked when echoed, after the work, as it always was)."""
    info = body.get(key)
    if not isinstance(info, dict) or set(info) - CREATE_INFO:
        raise no_object(key)
    text(info, "snapshot_id")
    text(info, "new_file")
    if info.get("type", "") != "qcow2":
        raise attribute("type", info.get("type"))
    return info


class AssistedSnapshotCreate(NovaBody):
    """``POST /os-assisted-volume-snapshots``."""

    wrapper = "snapshot"
    open_ended = True  # the envelope refuses other members, in Nova's words

    volume_id: Annotated[str, check_text]
    create_info: Annotated[dict[str, Any], check_create_info]

    @classmethod
    def envelope(cls, data: Any, version: APIVersion) -> dict[str, Any]:
        if not isinstance(data, dict) or set(data) - {"volume_id", "create_info"}:
            raise no_object(cls.wrapper)
        return data
