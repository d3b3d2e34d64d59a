#!/bin/sh
# lsblk in the OneStack test guest: `lsblk -lb --nodeps` as util-linux prints it, one line per
# whole disk from /sys/block (Tempest's remote client counts the disks of a server so).
printf '%-6s %7s %2s %12s %2s %-4s %s\n' NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINT
for dev in /sys/block/*; do
    name=${dev##*/}
    case $name in loop* | ram*) continue ;; esac
    kind=disk
    case $name in sr*) kind=rom ;; esac
    size=$(($(cat "$dev/size") * 512))
    printf '%-6s %7s %2s %12s %2s %-4s\n' "$name" "$(cat "$dev/dev")" \
        "$(cat "$dev/removable")" "$size" "$(cat "$dev/ro")" "$kind"
done
