"""``onestack image build-test``: build (or reuse) the test image, copy it, register it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from onestack.image.testimage.build import IMAGE_NAME, ensure_image
from onestack.image.testimage.errors import BuildError
from onestack.image.testimage.register import (
    RegisterError,
    load_cloud,
    register_over_http,
    testimage_guest,
)


def build_test(
    *, force: bool, output: Path | None, register: bool, data_dir: Path, running: bool
) -> int:
    """Prints the image's path on stdout (and what happened on stderr); 0 on success."""
    try:
        result = ensure_image(force=force)
    except (BuildError, OSError) as exc:
        print(f"onestack: cannot build the test image: {exc}", file=sys.stderr)
        return 1
    print(f"onestack: {result.summary()}", file=sys.stderr)
    path = result.path
    if output is not None:
        if output.is_dir():
            output = output / path.name
        shutil.copyfile(path, output)
        path = output
    print(path)
    if not register:
        return 0
    if not running:
        print(
            f"onestack: no cloud is running on {data_dir}; start it with 'onestack up'.",
            file=sys.stderr,
        )
        return 1
    try:
        done = register_over_http(testimage_guest(result), load_cloud(data_dir / "clouds.yaml"))
    except RegisterError as exc:
        print(f"onestack: cannot register {IMAGE_NAME}: {exc}", file=sys.stderr)
        return 1
    verb = "registered" if done.created else "already registered"
    print(f"onestack: {verb} {IMAGE_NAME} as image {done.image_id}", file=sys.stderr)
    if done.others:
        print(
            f"onestack: other images named {IMAGE_NAME}: {', '.join(done.others)}",
            file=sys.stderr,
        )
    return 0
