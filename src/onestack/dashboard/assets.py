"""The dashboard's third-party browser code, fetched at set-up time from the npm registry and
served from this package's ``static/vendor`` (the dashboard then works with no internet).

    python -m onestack.dashboard.assets          # scripts/bootstrap.sh runs it (make up)
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).parent / "static" / "vendor"


@dataclass(frozen=True)
class Asset:
    name: str
    version: str
    url: str
    integrity: str  # the registry's ``dist.integrity``: sha512, base64
    keep: tuple[str, ...]  # what of the package's tarball is served

    @property
    def home(self) -> Path:
        return VENDOR / self.name

    @property
    def installed(self) -> bool:
        return (self.home / ".version").is_file() and (
            (self.home / ".version").read_text().strip() == self.version
        )


# noVNC: the in-browser VNC client of the instance console (MPL-2.0), ES modules.
NOVNC = Asset(
    name="novnc",
    version="1.7.0",
    url="https://registry.npmjs.org/@novnc/novnc/-/novnc-1.7.0.tgz",
    integrity="sha512-ucEJOx4T2avIRCleodk7YobZj5O2Ga2AeLfQ69A/yjG9HHba2+PDgwSkN3FttrmG+70ZGx21sElNFouK13RzyA==",
    keep=("core", "vendor", "LICENSE.txt"),
)
ASSETS = (NOVNC,)


def fetch(asset: Asset, timeout: float = 60.0) -> bytes:
    with urllib.request.urlopen(asset.url, timeout=timeout) as resp:  # noqa: S310 - https only
        data: bytes = resp.read()
    algorithm, _, expected = asset.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise ValueError(f"{asset.url}: {algorithm} {digest} is not the pinned {expected}")
    return data


def install(asset: Asset, data: bytes) -> None:
    """Unpack the kept parts beside the final place, then swap them in whole."""
    VENDOR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{asset.name}-", dir=VENDOR))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(staging, filter="data")
        package = staging / "package"
        final = Path(tempfile.mkdtemp(prefix=f".{asset.name}-new-", dir=VENDOR))
        for part in asset.keep:
            shutil.move(str(package / part), str(final / part))
        (final / ".version").write_text(asset.version + "\n")
        for path in final.rglob("*"):  # served as they are: readable whatever the umask
            path.chmod(0o755 if path.is_dir() else 0o644)
        final.chmod(0o755)
        old = asset.home.with_name(f".{asset.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        if asset.home.exists():
            asset.home.rename(old)
        final.rename(asset.home)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    force = "--force" in (argv if argv is not None else sys.argv[1:])
    status = 0
    for asset in ASSETS:
        if asset.installed and not force:
            continue
        try:
            install(asset, fetch(asset))
            print(f"dashboard: installed {asset.name} {asset.version} into {asset.home}")
        except (OSError, ValueError, tarfile.TarError) as exc:
            print(f"dashboard: cannot install {asset.name}: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
