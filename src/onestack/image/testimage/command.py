"""``onestack image build-test|build-cloud``: build (or reuse) an image, copy it, register it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from onestack.image.testimage.build import ensure_image
from onestack.image.testimage.errors import BuildError
from onestack.image.testimage.register import (
    GuestImage,
    RegisterError,
    cloud_guest,
    load_cloud,
    register_over_http,
    testimage_guest,
)


def build_test(
    *, force: bool, output: Path | None, register: bool, data_dir: Path, running: bool
) -> int:
    """Prints the image's path on stdout (and what happened on stderr); 0 on success."""
    return _build_and_register(
        lambda: testimage_guest(_announce(ensure_image(force=force))),
        output=output, register=register, data_dir=data_dir, running=running,
    )  # fmt: skip


def build_cloud(
    *, force: bool, output: Path | None, register: bool, data_dir: Path, running: bool
) -> int:
    """The Debian 12 cloud image: as ``build_test`` (a first build takes minutes)."""
    from onestack.image.cloudimage import ensure_cloud_image

    if not force:
        print("onestack: building the Debian 12 cloud image (minutes the first time)",
              file=sys.stderr)  # fmt: skip
    return _build_and_register(
        lambda: cloud_guest(_announce(ensure_cloud_image(force=force))),
        output=output, register=register, data_dir=data_dir, running=running,
    )  # fmt: skip


class _Summarised(Protocol):
    def summary(self) -> str: ...


_T = TypeVar("_T", bound=_Summarised)


def _announce(result: _T) -> _T:
    print(f"onestack: {result.summary()}", file=sys.stderr)
    return result


def _build_and_register(
    build: Callable[[], GuestImage],
    *,
    output: Path | None,
    register: bool,
    data_dir: Path,
    running: bool,
) -> int:
    if register and not running:
        print(
            f"onestack: no cloud is running on {data_dir}; start it with 'onestack up'.",
            file=sys.stderr,
        )
        return 1
    try:
        guest = build()
    except (BuildError, OSError) as exc:
        print(f"onestack: cannot build the image: {exc}", file=sys.stderr)
        return 1
    path = guest.path
    if output is not None:
        if output.is_dir():
            output = output / path.name
        shutil.copyfile(path, output)
        path = output
    print(path)
    if not register:
        return 0
    try:
        done = register_over_http(guest, load_cloud(data_dir / "clouds.yaml"))
    except RegisterError as exc:
        print(f"onestack: cannot register {guest.name}: {exc}", file=sys.stderr)
        return 1
    verb = "registered" if done.created else "already registered"
    print(f"onestack: {verb} {guest.name} as image {done.image_id}", file=sys.stderr)
    for prop, image_id in done.boot_images.items():
        print(f"onestack: its {prop} is image {image_id} (direct kernel boot)", file=sys.stderr)
    return 0
