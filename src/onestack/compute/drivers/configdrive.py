"""A config drive as Nova writes one: ISO 9660 labelled ``config-2`` with Rock Ridge and Joliet
names, holding the OpenStack metadata tree (``openstack/latest/meta_data.json``, ``user_data``).

The compute driver attaches it to guests; the test-image tests and benchmark boot with it too.
"""

from __future__ import annotations

import io
from pathlib import Path

import pycdlib

LABEL = "config-2"


def _iso_path(parts: list[str]) -> str:
    # ISO 9660 level-4 names for the primary tree; guests read the Rock Ridge names.
    return "/" + "/".join(p.upper().replace("-", "_").replace(".", "_") for p in parts)


def write(files: dict[str, bytes], path: Path, label: str = LABEL) -> Path:
    """An ISO at ``path`` holding ``files`` (relative paths such as
    ``openstack/latest/meta_data.json``)."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, joliet=3, rock_ridge="1.09", vol_ident=label)
    made: set[str] = set()
    try:
        for index, (rel, data) in enumerate(sorted(files.items())):
            parts = rel.strip("/").split("/")
            for depth in range(1, len(parts)):
                directory = parts[:depth]
                key = "/".join(directory)
                if key not in made:
                    iso.add_directory(
                        _iso_path(directory), rr_name=directory[-1], joliet_path="/" + key
                    )
                    made.add(key)
            iso.add_fp(
                io.BytesIO(data),
                len(data),
                f"{_iso_path(parts[:-1]) if len(parts) > 1 else ''}/F{index}.;1",
                rr_name=parts[-1],
                joliet_path="/" + "/".join(parts),
            )
        iso.write(str(path))
    finally:
        iso.close()
    return path
