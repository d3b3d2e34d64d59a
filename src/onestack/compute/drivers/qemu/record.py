"""``instance.json``: the spec the guest was started with and where its devices sit.

A hot-plugged volume or NIC lives on in the layout, so the next start (power on, hard reboot,
resume) builds the guest with it; a suspended guest is resumed with exactly the machine it was
saved from. The config drive's contents are not kept (only whether there is one).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from onestack.compute.drivers.base import NIC, BootSource, DriverError, InstanceSpec, Volume
from onestack.compute.drivers.qemu.cmdline import Layout

VERSION = 1


@dataclass(frozen=True)
class Record:
    spec: InstanceSpec
    layout: Layout


def _path_or_none(value: Any) -> Path | None:
    return Path(value) if value else None


def _volume(data: dict[str, Any]) -> Volume:
    qos = tuple((str(k), str(v)) for k, v in data.get("qos", ()))
    return Volume(**{**data, "path": Path(data["path"]), "qos": qos})


def spec_to_json(spec: InstanceSpec) -> dict[str, Any]:
    data = asdict(spec)
    data["config_drive"] = {} if spec.config_drive is not None else None
    return data


def _boot(boot: dict[str, Any]) -> BootSource:
    return BootSource(
        **{
            **boot,
            "image_path": Path(boot["image_path"]),
            "kernel_path": _path_or_none(boot.get("kernel_path")),
            "ramdisk_path": _path_or_none(boot.get("ramdisk_path")),
        }
    )


def spec_from_json(data: dict[str, Any]) -> InstanceSpec:
    rescue = data.get("rescue")
    return InstanceSpec(
        **{
            **data,
            "boot": _boot(data["boot"]),
            "rescue": _boot(rescue) if rescue else None,
            "nics": tuple(NIC(**n) for n in data.get("nics", ())),
            "volumes": tuple(_volume(v) for v in data.get("volumes", ())),
        }
    )


def to_json(record: Record) -> dict[str, Any]:
    layout = record.layout
    return {
        "version": VERSION,
        "spec": spec_to_json(record.spec),
        "root_ports": layout.root_ports,
        "nics": [{"port": port, **asdict(nic)} for port, nic in layout.nics],
        "volumes": [{"port": port, **asdict(v), "path": str(v.path)} for port, v in layout.volumes],
    }


def from_json(data: dict[str, Any]) -> Record:
    def split(item: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        rest = dict(item)
        return int(rest.pop("port")), rest

    nics = tuple((port, NIC(**rest)) for port, rest in map(split, data.get("nics", ())))
    volumes = tuple((port, _volume(rest)) for port, rest in map(split, data.get("volumes", ())))
    return Record(spec_from_json(data["spec"]), Layout(int(data["root_ports"]), nics, volumes))


def load(path: Path) -> Record | None:
    try:
        return from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DriverError(f"the instance record {path.parent.name} is unreadable: {exc}") from exc


def save(path: Path, record: Record) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(to_json(record), indent=1, default=str))
    os.replace(partial, path)
