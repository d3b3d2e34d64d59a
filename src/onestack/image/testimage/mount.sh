#!/bin/sh
# mount for whoever logs in to the OneStack test guest: VFAT's modules, which /init loads only
# for a config drive in that format, are loaded first, so that a volume formatted on one server
# (`mkfs -t vfat`) mounts without `-t` on another (Tempest's stamp pattern). /init itself runs
# busybox's mount: /bin comes before /usr/bin on its PATH, after it on a login's.
grep -qw vfat /proc/filesystems || {
    . /usr/share/onestack/lib.sh
    load_modules vfat.list
}
exec /bin/busybox mount "$@"
