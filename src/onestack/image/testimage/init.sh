#!/bin/busybox sh
# /init of the OneStack test guest (PID 1 in the initramfs): a cloud guest in a few hundred
# lines of busybox. It brings eth0 up with DHCP, reads the config drive (label config-2) or the
# metadata service, sets the hostname, installs root's public keys, starts an SSH server
# (dropbear) on port 22, runs a user-data script, serves HTTP on port 80 and prints `onestack-guest ready <hostname> <ip>` on the console.
# Each step logs a line ("onestack-guest: ...") so a test that fails shows where it stopped.

export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run/onestack /tmp /mnt/config /var/www /root/.ssh
mount -t devpts devpts /dev/pts

. /usr/share/onestack/lib.sh

STATE=/run/onestack
META_URL=http://169.254.169.254/openstack/latest

log "init started: kernel $(uname -r)"

# Modules, in dependency order (the builder resolved it): those of every boot, then the drivers
# of CD-ROM controllers only when there is one (the PC machine's IDE, virtio-scsi).
MODULES_LOADED=0
load_modules load.list
pci_class_present 0x0101 && load_modules ide.list
pci_device_present 0x1af4 0x1004 0x1048 && load_modules virtio-scsi.list
log "modules loaded: $MODULES_LOADED"
# Kernel messages up to here help a failed boot; from here only errors, so that they do not
# break the lines tests read (printk can land in the middle of a line written by a process).
dmesg -n 3

mkdir -p /etc/dropbear
chmod 700 /root/.ssh

# /tmp on the image's own partition, so that what a user writes there is on the disk: it lives
# through a reboot and is in a snapshot (Tempest's snapshot pattern writes /tmp/timestamp).
root_dev=$(findfs LABEL=cloudimg-rootfs 2> /dev/null)
tries=0
while [ -z "$root_dev" ] && [ "$tries" -lt 10 ]; do
    usleep 50000
    tries=$((tries + 1))
    root_dev=$(findfs LABEL=cloudimg-rootfs 2> /dev/null)
done
if [ -n "$root_dev" ] && mount -t ext4 -o rw,noatime "$root_dev" /media/root 2> /dev/null; then
    mkdir -p /media/root/tmp && chmod 1777 /media/root/tmp
    mount --bind /media/root/tmp /tmp
    log "/tmp on $root_dev"
else
    mount -t tmpfs -o mode=1777 tmpfs /tmp
fi

# ACPI power button -> clean poweroff, so a graceful stop does not wait for a timeout.
acpid -c /etc/acpi -l /var/log/acpid.log && log "acpid started"

# Network: loopback, then DHCP on eth0 (udhcpc backgrounds itself once bound and renews).
ip link set lo up
tries=0
while [ ! -e /sys/class/net/eth0 ] && [ "$tries" -lt 50 ]; do
    usleep 100000
    tries=$((tries + 1))
done
if [ -e /sys/class/net/eth0 ]; then
    ip link set eth0 up
    log "dhcp on eth0"
    udhcpc -i eth0 -s /usr/share/udhcpc/default.script -t 10 -T 1 -A 3 -b \
        -p /var/run/udhcpc.eth0.pid \
        -O staticroutes -O mtu
else
    log "no eth0"
fi
IP=$(eth0_ip)
log "eth0 address ${IP:-none}"

# Metadata: the config drive if there is one, else the metadata service.
source=none
read_config_drive() {
    if mount -t iso9660 -o ro "$1" /mnt/config 2> /dev/null \
        || { load_modules vfat.list && mount -t vfat -o ro "$1" /mnt/config 2> /dev/null; }; then
        cp /mnt/config/openstack/latest/meta_data.json "$STATE/meta_data.json" 2> /dev/null
        cp /mnt/config/openstack/latest/user_data "$STATE/user_data" 2> /dev/null
        cp -r /mnt/config/openstack/content "$STATE/content" 2> /dev/null
        umount /mnt/config
        source="config drive $1"
    else
        log "config drive $1 does not mount"
    fi
}
dev=$(find_config_drive)
tries=0
# CD-ROMs on the PC machine's IDE (ata_piix) are probed asynchronously: give them a moment.
# A q35 guest's config drive is a virtio disk, there at once: no wait before the metadata.
while [ -z "$dev" ] && [ "$tries" -lt 10 ] && ls /sys/bus/pci/drivers/ata_piix 2> /dev/null \
    | grep -q :; do
    usleep 100000
    tries=$((tries + 1))
    dev=$(find_config_drive)
done
[ -n "$dev" ] && read_config_drive "$dev"
if [ "$source" = none ] && [ -n "$IP" ]; then
    log "no config drive: asking $META_URL"
    if fetch "$META_URL/meta_data.json" "$STATE/meta_data.json"; then
        FETCH_TRIES=1 fetch "$META_URL/user_data" "$STATE/user_data"
        source="metadata service"
    fi
fi
log "metadata from $source"

HOSTNAME=
UUID=
if [ -s "$STATE/meta_data.json" ]; then
    awk -f /usr/share/onestack/metadata.awk "$STATE/meta_data.json" > "$STATE/meta.flat"
    HOSTNAME=$(meta_get "$STATE/meta.flat" hostname)
    [ -n "$HOSTNAME" ] || HOSTNAME=$(meta_get "$STATE/meta.flat" name)
    UUID=$(meta_get "$STATE/meta.flat" uuid)
    log "instance ${UUID:-unknown}"
fi
# Personality files (Nova's injected files): meta_data.json names each one's path and where
# its content is (/content/NNNN under openstack/ on the config drive or the metadata service).
i=0
while [ -f "$STATE/meta.flat" ] && path=$(meta_get "$STATE/meta.flat" "files.$i.path") \
    && [ -n "$path" ]; do
    from=$(meta_get "$STATE/meta.flat" "files.$i.content_path")
    mkdir -p "$(dirname "$path")"
    if [ -f "$STATE$from" ]; then
        cp "$STATE$from" "$path"
    else
        FETCH_TRIES=1 fetch "${META_URL%/latest}$from" "$path"
    fi
    log "injected file $path"
    i=$((i + 1))
done

HOSTNAME=${HOSTNAME:-onestack-guest}
hostname "$HOSTNAME"
echo "$HOSTNAME" > /etc/hostname
echo "127.0.1.1 $HOSTNAME" >> /etc/hosts
log "hostname $HOSTNAME"

# Root's public keys, for dropbear (which reads them at each login: the file appears whole);
# the fingerprint line on the console shows a key arrived.
: > "$STATE/authorized_keys"
if [ -f "$STATE/meta.flat" ]; then
    meta_keys "$STATE/meta.flat" > "$STATE/authorized_keys"
fi
chmod 600 "$STATE/authorized_keys"
mv "$STATE/authorized_keys" /root/.ssh/authorized_keys
if [ -s /root/.ssh/authorized_keys ]; then
    while read -r key; do
        log "ssh key $(fingerprint "$key")"
    done < /root/.ssh/authorized_keys
else
    log "no ssh keys"
fi

# SSH: dropbear on port 22 once root's keys are in place (host keys made on first connection:
# starting costs nothing). Listening earlier gains no login, and a client that reaches it before
# the keys records its host key and fails: Tempest, whose floating IP moves between two new
# servers, then refuses the right server's key for good ("Host key ... does not match").
if dropbear -R -p 22 -P /run/dropbear.pid 2> "$STATE/dropbear.err"; then
    log "sshd listening on port 22"
else
    log "sshd failed: $(cat "$STATE/dropbear.err")"
fi

# The web page: hostname and instance, and whatever user data writes to /var/www.
cat > /var/www/index.html << HTML
<html><head><title>$(html_escape "$HOSTNAME")</title></head><body>
<h1>onestack-guest $(html_escape "$HOSTNAME")</h1>
<p>instance $(html_escape "${UUID:-unknown}")</p>
<p>address ${IP:-none}</p>
</body></html>
HTML
echo "$HOSTNAME" > /var/www/hostname
echo "${UUID:-}" > /var/www/uuid

# User data: run it when it is a script.
if [ -s "$STATE/user_data" ]; then
    if [ "$(head -c 2 "$STATE/user_data")" = "#!" ]; then
        chmod 700 "$STATE/user_data"
        log "running user-data script"
        (cd /root && "$STATE/user_data")
        log "user-data exited with $?"
    else
        log "user-data is not a script: ignored"
    fi
else
    log "no user-data"
fi

httpd -p 80 -h /var/www && log "httpd listening on port 80"

log "up $(cut -d ' ' -f 1 /proc/uptime)s"
echo "onestack-guest ready $HOSTNAME ${IP:-none}"

# From here busybox init keeps the guest alive (a shell on the serial console, power events).
exec /sbin/init
