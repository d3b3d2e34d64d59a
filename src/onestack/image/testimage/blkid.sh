#!/bin/sh
# blkid in the OneStack test guest: busybox blkid, plus util-linux's `blkid -L LABEL [-o device]`
# (Tempest finds the config drive with `blkid -L config-2 -o device`).
if [ "$1" = "-L" ] && [ -n "$2" ]; then
    . /usr/share/onestack/lib.sh
    if [ "$2" = config-2 ]; then
        find_config_drive
    else
        findfs "LABEL=$2"
    fi
    exit
fi
exec busybox blkid "$@"
