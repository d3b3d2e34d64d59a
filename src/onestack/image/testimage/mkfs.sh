#!/bin/sh
# mkfs in the OneStack test guest: util-linux's front end, `mkfs [-t TYPE] DEVICE`, for the
# file systems busybox makes (Tempest's remote client formats a volume with `mkfs -t vfat`).
# ext3 and ext4 are refused rather than made as busybox's ext2.
type=ext2
while getopts t: opt; do
    case $opt in
        t) type=$OPTARG ;;
        *) echo "usage: mkfs [-t vfat|ext2] DEVICE" >&2; exit 1 ;;
    esac
done
shift $((OPTIND - 1))
case $type in
    vfat | fat | msdos)
        . /usr/share/onestack/lib.sh
        load_modules vfat.list
        exec mkdosfs "$@"
        ;;
    ext2) exec mke2fs "$@" ;;
    *) echo "mkfs: this guest cannot make $type file systems (vfat, ext2)" >&2; exit 1 ;;
esac
