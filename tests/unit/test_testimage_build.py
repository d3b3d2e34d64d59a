"""The test image's builder: pure parts (cpio, module order, MBR, boot menu, cache key)."""

from __future__ import annotations

import gzip
import json
import shutil
import stat
import struct
import subprocess
from pathlib import Path

import pytest

from onestack.image.testimage import build, cpio, disk, initramfs, kernel


def read_newc(data: bytes) -> list[tuple[str, int, bytes, tuple[int, int]]]:
    """(name, mode, data, rdev) of each member of a newc archive, trailer excluded."""
    out = []
    pos = 0
    while True:
        assert data[pos : pos + 6] == b"070701"
        fields = [int(data[pos + 6 + 8 * i : pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = fields[11], fields[6]
        name_start = pos + 110
        name = data[name_start : name_start + namesize - 1].decode()
        pos = name_start + namesize
        pos += -pos % 4
        body = data[pos : pos + filesize]
        pos += filesize
        pos += -pos % 4
        if name == cpio.TRAILER:
            assert pos == len(data)
            return out
        out.append((name, fields[1], body, (fields[9], fields[10])))


class TestCpio:
    def test_round_trip(self) -> None:
        entries = [
            cpio.directory("bin"),
            cpio.file("bin/busybox", b"x" * 5, 0o755),
            cpio.symlink("bin/sh", "busybox"),
            cpio.char_device("dev/console", 5, 1),
        ]
        members = read_newc(cpio.archive(entries))
        assert [m[0] for m in members] == ["bin", "bin/busybox", "bin/sh", "dev/console"]
        assert stat.S_ISDIR(members[0][1])
        assert members[1][2] == b"xxxxx" and members[1][1] & 0o777 == 0o755
        assert stat.S_ISLNK(members[2][1]) and members[2][2] == b"busybox"
        assert stat.S_ISCHR(members[3][1]) and members[3][3] == (5, 1)

    def test_alignment_and_trailer(self) -> None:
        data = cpio.archive([cpio.file("a", b"123")])
        assert len(data) % 4 == 0
        assert b"TRAILER!!!" in data

    @pytest.mark.skipif(shutil.which("cpio") is None, reason="no cpio")
    def test_gnu_cpio_reads_it(self, tmp_path: Path) -> None:
        archive = tmp_path / "a.cpio"
        archive.write_bytes(cpio.archive([cpio.directory("d"), cpio.file("d/f", b"hello\n")]))
        listing = subprocess.run(
            ["cpio", "-it", "--quiet"], input=archive.read_bytes(), capture_output=True
        )
        assert listing.stdout.decode().split() == ["d", "d/f"]


class TestInitramfs:
    def test_layout(self) -> None:
        entries = initramfs.entries(b"BUSYBOX", [("virtio.ko", b"m1"), ("virtio_pci.ko", b"m2")])
        by_path = {e.path: e for e in entries}
        assert by_path["init"].mode & 0o111
        assert by_path["init"].data.startswith(b"#!/bin/busybox sh")
        assert by_path["bin/busybox"].data == b"BUSYBOX"
        assert by_path["bin/sh"].data == b"busybox"
        assert by_path["lib/modules/load.list"].data == b"virtio.ko\nvirtio_pci.ko\n"
        assert stat.S_ISCHR(by_path["dev/console"].mode)
        for helper in initramfs.GUEST_FILES:
            assert helper in by_path
        # parents come before children, as the kernel's unpacker needs
        seen: set[str] = set()
        for e in entries:
            parent = e.path.rpartition("/")[0]
            assert not parent or parent in seen, e.path
            seen.add(e.path)

    def test_on_demand_groups(self) -> None:
        """A group's list names its modules in order; a module shared by two groups (or by a
        group and every boot) is carried once."""
        entries = initramfs.entries(
            b"BUSYBOX",
            [("virtio.ko", b"m1")],
            groups={
                "ide": [("scsi_mod.ko", b"s"), ("ata_piix.ko", b"a")],
                "virtio-scsi": [("scsi_mod.ko", b"s"), ("virtio_scsi.ko", b"v")],
            },
        )
        paths = [e.path for e in entries]
        by_path = {e.path: e for e in entries}
        assert by_path["lib/modules/load.list"].data == b"virtio.ko\n"
        assert by_path["lib/modules/ide.list"].data == b"scsi_mod.ko\nata_piix.ko\n"
        assert by_path["lib/modules/virtio-scsi.list"].data == b"scsi_mod.ko\nvirtio_scsi.ko\n"
        assert paths.count("lib/modules/scsi_mod.ko") == 1
        assert "lib/modules/virtio_scsi.ko" in by_path

    def test_xz_modules_are_unpacked(self, tmp_path: Path) -> None:
        import lzma

        packed = tmp_path / "virtio.ko.xz"
        packed.write_bytes(lzma.compress(b"ELF", check=lzma.CHECK_CRC32))
        assert initramfs.module_image(packed) == ("virtio.ko", b"ELF")
        with pytest.raises(ValueError):
            initramfs.module_image(tmp_path / "virtio.ko.zst")

    def test_reproducible(self, tmp_path: Path) -> None:
        busybox = tmp_path / "busybox"
        busybox.write_bytes(b"bb")
        module = tmp_path / "virtio.ko"
        module.write_bytes(b"mod")
        first = initramfs.build(busybox, [module])
        assert first == initramfs.build(busybox, [module])
        members = read_newc(gzip.decompress(first))
        assert ("lib/modules/virtio.ko", stat.S_IFREG | 0o644, b"mod", (0, 0)) in members


def fake_module(modinfo: dict[str, str]) -> bytes:
    """A minimal ELF64 relocatable holding only a .modinfo and a section-name table."""
    info = b"".join(f"{k}={v}".encode() + b"\0" for k, v in modinfo.items())
    names = b"\0.modinfo\0.shstrtab\0"
    header_size, entry = 64, 64
    info_off = header_size
    names_off = info_off + len(info)
    shoff = names_off + len(names)
    shoff += -shoff % 8
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    ehdr = ident + struct.pack(
        "<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, header_size, 0, 0, entry, 3, 2
    )
    sections = [
        struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        struct.pack("<IIQQQQIIQQ", 1, 1, 0, 0, info_off, len(info), 0, 0, 1, 0),
        struct.pack("<IIQQQQIIQQ", 10, 3, 0, 0, names_off, len(names), 0, 0, 1, 0),
    ]
    body = ehdr + info + names
    body += b"\0" * (shoff - len(body))
    return body + b"".join(sections)


class TestKernel:
    def test_modinfo(self) -> None:
        data = fake_module({"license": "GPL", "depends": "virtio,virtio_ring", "name": "x"})
        info = kernel.modinfo(data)
        assert info["depends"] == "virtio,virtio_ring"
        assert info["license"] == "GPL"

    def test_modinfo_rejects_non_elf(self) -> None:
        with pytest.raises(kernel.KernelError):
            kernel.modinfo(b"not an elf file at all, just some bytes" * 2)

    def test_load_order_puts_dependencies_first(self) -> None:
        deps = {
            "virtio_net": ["virtio", "net_failover"],
            "net_failover": ["failover"],
            "failover": [],
            "virtio": ["virtio_ring"],
            "virtio_ring": [],
            "virtio_blk": ["virtio", "virtio_ring"],
        }
        order = kernel.load_order(["virtio_net", "virtio_blk"], deps)
        assert sorted(order) == sorted(deps)
        for name, needs in deps.items():
            for dep in needs:
                assert order.index(dep) < order.index(name)

    def test_load_order_errors(self) -> None:
        with pytest.raises(kernel.KernelError, match="no module"):
            kernel.load_order(["a"], {"a": ["b"]})
        with pytest.raises(kernel.KernelError, match="cycle"):
            kernel.load_order(["a"], {"a": ["b"], "b": ["a"]})

    def test_select_modules_skips_builtins(self, tmp_path: Path) -> None:
        unpacked = kernel.UnpackedKernel(tmp_path, "6.1.0-1-cloud-amd64")
        mods = unpacked.modules_dir / "kernel" / "drivers"
        mods.mkdir(parents=True)
        unpacked.config.parent.mkdir(parents=True)
        unpacked.config.write_text(
            "".join(f"{o}=y\n" for o in kernel.REQUIRED_BUILTIN) + "CONFIG_VIRTIO=m\n"
        )
        (unpacked.modules_dir / "modules.builtin").write_text("kernel/drivers/crc32c.ko\n")
        (mods / "virtio_blk.ko").write_bytes(fake_module({"depends": "virtio,crc32c"}))
        (mods / "virtio.ko").write_bytes(fake_module({"depends": ""}))
        files = kernel.select_modules(unpacked, ["virtio_blk"])
        assert [f.name for f in files] == ["virtio.ko", "virtio_blk.ko"]

    def test_missing_builtin_is_refused(self) -> None:
        with pytest.raises(kernel.KernelError, match="CONFIG_EXT4_FS"):
            kernel.check_builtins("CONFIG_BLK_DEV_INITRD=y\nCONFIG_EXT4_FS=m\n")

    def test_apt_output_parsing(self) -> None:
        depends = "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n"
        assert kernel.parse_depends(depends) == "linux-image-6.1.0-56-cloud-amd64"
        assert kernel.parse_depends("x\n  Depends: <virtual>\n") is None
        policy = "pkg:\n  Installed: (none)\n  Candidate: 6.1.192-2\n  Version table:\n"
        assert kernel.parse_candidate(policy) == "6.1.192-2"
        assert kernel.parse_candidate("pkg:\n  Installed: (none)\n  Candidate: (none)\n") is None

    def test_deb_name(self) -> None:
        pkg = kernel.KernelPackage("linux-image-6.1.0-56-cloud-amd64", "1:6.1.192-2")
        assert pkg.deb_name == "linux-image-6.1.0-56-cloud-amd64_1%3a6.1.192-2_amd64.deb"


class TestDisk:
    def test_extlinux_conf(self) -> None:
        conf = disk.extlinux_conf("/boot/vmlinuz", "/boot/initrd.img")
        assert "DEFAULT onestack" in conf
        assert "  LINUX /boot/vmlinuz\n" in conf
        assert "  INITRD /boot/initrd.img\n" in conf
        (append,) = [line for line in conf.splitlines() if "APPEND" in line]
        args = append.split()[1:]
        assert {"tsc=reliable", "no_timer_check"} <= set(args)
        # the serial console last, so that /dev/console (and init's output) is ttyS0
        assert args.index("console=tty0") < args.index("console=ttyS0,115200")

    def test_mbr(self) -> None:
        sector = disk.mbr(b"\xfa" * 440, partition_sectors=4096)
        assert len(sector) == 512
        assert sector[:440] == b"\xfa" * 440
        assert sector[510:] == b"\x55\xaa"
        entry = sector[446:462]
        assert entry[0] == 0x80  # bootable
        assert entry[4] == 0x83  # Linux
        assert struct.unpack("<II", entry[8:16]) == (2048, 4096)
        assert sector[462:510] == b"\0" * 48  # the other three entries are empty

    def test_fs_size(self) -> None:
        assert disk.fs_size_mib(1) == 17
        assert disk.fs_size_mib(15 * 2**20) == 31

    def test_assemble(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(disk, "mbr_code", lambda: b"\x33" * 440)
        fs = tmp_path / "fs"
        fs.write_bytes(b"F" * 1000)
        result = disk.assemble(fs, tmp_path / "raw")
        data = result.raw.read_bytes()
        assert result.virtual_size == len(data) == 2048 * 512 + 1024
        assert data[2048 * 512 : 2048 * 512 + 1000] == b"F" * 1000
        assert struct.unpack("<I", data[458:462]) == (2,)


def inputs(**changes: object) -> build.Inputs:
    base: dict[str, object] = {
        "kernel_package": "linux-image-6.1.0-56-cloud-amd64",
        "kernel_version": "6.1.192-2",
        "guest_files": {"init.sh": "aa"},
        "builder": "b0",
        "busybox": "bb",
        "sshd": {"usr/sbin/dropbear": "dd"},
        "mbr": "cc",
        "modules": ("virtio_pci",),
        "on_demand_modules": {"ide": ("ata_piix",)},
        "extlinux_conf": "DEFAULT onestack\n",
    }
    base.update(changes)
    return build.Inputs(**base)  # type: ignore[arg-type]


class TestCache:
    def test_key_follows_inputs(self) -> None:
        key = inputs().key()
        assert key == inputs().key()
        assert key != inputs(kernel_version="6.1.193-1").key()
        assert key != inputs(guest_files={"init.sh": "ab"}).key()
        assert key != inputs(modules=("virtio_pci", "virtio_net")).key()
        assert key != inputs(on_demand_modules={"ide": ("ata_piix", "sr_mod")}).key()
        assert key != inputs(builder="b1").key()
        assert key != inputs(sshd={"usr/sbin/dropbear": "de"}).key()

    def test_gathered_inputs_hash_our_files(self) -> None:
        if not initramfs.BUSYBOX.exists() or not any(p.exists() for p in disk.MBR_CANDIDATES):
            pytest.skip("busybox-static or syslinux-common is not installed")
        got = build.gather_inputs(kernel.KernelPackage("linux-image-x", "1"))
        assert set(got.guest_files) == {
            "init.sh", "lib.sh", "metadata.awk", "udhcpc.sh", "sudo.sh", "curl.sh", "lsblk.sh",
            "blkid.sh", "mkfs.sh", "mount.sh",
        }  # fmt: skip
        assert "tsc=reliable" in got.extlinux_conf
        assert "cryptomgr.notests" in got.extlinux_conf
        assert {"usr/sbin/dropbear", "lib64/ld-linux-x86-64.so.2"} <= set(got.sshd)

    def test_cache_dir_follows_xdg(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        assert build.image_path() == tmp_path / "onestack" / "test-image" / "onestack-test.qcow2"

    def test_rebuilds_only_when_inputs_change(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        version = {"v": "1"}
        builds: list[str] = []
        monkeypatch.setattr(
            kernel, "resolve", lambda: kernel.KernelPackage("linux-image-x", version["v"])
        )
        monkeypatch.setattr(build, "gather_inputs", lambda p: inputs(kernel_version=p.version))

        def fake_build(directory: Path, package: kernel.KernelPackage, i: build.Inputs) -> object:
            builds.append(package.version)
            build.image_path(directory).write_bytes(b"QFI\xfb" + package.version.encode())
            build.record_path(directory).write_text(
                json.dumps({"key": i.key(), "seconds": 1.5, "virtual_size": 7, "kernel": "k"})
            )
            return build._cached(directory, i.key())

        monkeypatch.setattr(build, "_build", fake_build)
        first = build.ensure_image(directory=tmp_path)
        again = build.ensure_image(directory=tmp_path)
        assert builds == ["1"]
        assert again.path == first.path and not again.built and again.seconds == 1.5
        build.ensure_image(directory=tmp_path, force=True)
        assert builds == ["1", "1"]
        version["v"] = "2"
        build.ensure_image(directory=tmp_path)
        assert builds == ["1", "1", "2"]
        assert build.cached_image(tmp_path) is not None

    def test_offline_uses_any_cached_image(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        def offline() -> kernel.KernelPackage:
            raise kernel.KernelError("apt-cache: no network")

        monkeypatch.setattr(kernel, "resolve", offline)
        with pytest.raises(kernel.KernelError):
            build.ensure_image(directory=tmp_path)
        build.image_path(tmp_path).write_bytes(b"x")
        build.record_path(tmp_path).write_text(json.dumps({"key": "old"}))
        assert build.ensure_image(directory=tmp_path).key == "old"
        with pytest.raises(kernel.KernelError):
            build.ensure_image(directory=tmp_path, force=True)


def test_config_drive_layout(tmp_path: Path) -> None:
    import io

    import pycdlib

    from onestack.compute.drivers import configdrive

    files = {
        "openstack/latest/meta_data.json": b'{"hostname": "h"}',
        "openstack/latest/user_data": b"#!/bin/sh\n",
        "openstack/2012-08-10/meta_data.json": b"{}",
    }
    path = configdrive.write(files, tmp_path / "cd.iso")
    iso = pycdlib.PyCdlib()
    iso.open(str(path))
    try:
        assert iso.pvd.volume_identifier.rstrip(b" ") == b"config-2"
        for rel, data in files.items():
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path="/" + rel)
            assert out.getvalue() == data
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, joliet_path="/" + rel)
            assert out.getvalue() == data
    finally:
        iso.close()


def test_ldd_output_names_every_library_and_the_loader() -> None:
    from onestack.image.testimage import sshd

    out = (
        "\tlinux-vdso.so.1 (0x00007f4bae7cf000)\n"
        "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f4bae673000)\n"
        "\t/lib64/ld-linux-x86-64.so.2 (0x00007f4bae7d1000)\n"
    )
    libs = sshd.parse_ldd(out)
    assert libs == [Path("/lib/x86_64-linux-gnu/libz.so.1"), Path("/lib64/ld-linux-x86-64.so.2")]
    assert [sshd.guest_path(p) for p in libs] == [
        "lib/x86_64-linux-gnu/libz.so.1",
        "lib64/ld-linux-x86-64.so.2",
    ]
    with pytest.raises(sshd.SshdError, match="libfoo"):
        sshd.parse_ldd("\tlibfoo.so.1 => not found\n")


def test_the_initramfs_carries_dropbear_and_its_directories() -> None:
    extra = {"usr/sbin/dropbear": (b"ELF", 0o755), "lib/x86_64-linux-gnu/libc.so.6": (b"C", 0o755)}
    by_path = {e.path: e for e in initramfs.entries(b"BUSYBOX", [], extra)}
    assert by_path["usr/sbin/dropbear"].data == b"ELF"
    assert "lib/x86_64-linux-gnu" in by_path
    assert by_path["etc/shells"].data == b"/bin/sh\n"
