"""dnsmasq's files stay readable by ``nobody`` whoever made the directories above them (#10).

The regression: ``/run/onestack`` made 0700 by the accelerator cache under the server's umask
(077) before the network driver made ``/run/onestack/os``: dnsmasq, dropped to nobody, could
not read its hosts file and answered every DISCOVER with "no address available".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestack.network.drivers.base import Network, Port
from onestack.network.drivers.linuxbridge.dhcp import Dnsmasq, traversable_dir
from onestack.network.drivers.linuxbridge.shell import DataplaneError

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="reads as nobody: needs root"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv"),
]


def read_as_nobody(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def closed_root(tmp_path: Path) -> Iterator[Path]:
    """A run directory's parent made 0700 under umask 077, as the accelerator cache made it."""
    # pytest's own tmp_path is 0700 too: open it for traversal, as / and /run are.
    for level in (tmp_path, *tmp_path.parents):
        level.chmod(level.stat().st_mode | 0o001)
    old = os.umask(0o077)
    try:
        root = tmp_path / "run-onestack"
        root.mkdir()
        yield root
    finally:
        os.umask(old)


def test_files_under_a_0700_parent_are_readable_by_nobody(closed_root: Path) -> None:
    assert closed_root.stat().st_mode & 0o777 == 0o700
    dnsmasq = Dnsmasq(closed_root / "os", "openstacklocal", 600)
    files = dnsmasq.files("net-1")
    traversable_dir(files.directory)
    files.hosts.write_text("fa:16:3e:00:00:01,host-10-0-0-3.openstacklocal,10.0.0.3\n")
    files.hosts.chmod(0o644)

    done = read_as_nobody(files.hosts)

    assert done.returncode == 0, done.stderr
    assert "10.0.0.3" in done.stdout
    # Only the search bit was added to the directory someone else made: it stays unlistable.
    assert closed_root.stat().st_mode & 0o777 == 0o701


def test_rendered_files_are_readable_by_nobody_whatever_the_umask(closed_root: Path) -> None:
    dnsmasq = Dnsmasq(closed_root / "os", "openstacklocal", 600)
    network = Network("net-2", "proj", "vxlan", 7, None, 1450, False, True)
    port = Port("p", "net-2", "proj", "fa:16:3e:00:00:02", (), "network:dhcp", "dhcp")
    # No DHCP subnet: the files are written, no process is started.
    assert dnsmasq.ensure(network, "ns", "tap", port, ()) == "no dhcp subnet"
    files = dnsmasq.files("net-2")
    for path in (files.hosts, files.addn_hosts, files.opts):
        done = read_as_nobody(path)
        assert done.returncode == 0, f"{path}: {done.stderr}"


def test_a_level_that_cannot_be_opened_is_named(closed_root: Path) -> None:
    # A read-only bind mount stands in for a directory the server may not chmod.
    target = closed_root / "ro"
    (target / "inner" / "dhcp").mkdir(parents=True)
    subprocess.run(["mount", "--bind", "-o", "ro", str(target), str(target)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True)
        with pytest.raises(DataplaneError, match="closed to other users"):
            traversable_dir(target / "inner" / "dhcp")
    finally:
        subprocess.run(["umount", str(target)], check=False)
