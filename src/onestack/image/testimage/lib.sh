# Functions of the OneStack test guest's init (busybox sh). Sourced by /init; the unit tests
# source it on the host under busybox sh too, so everything here is side-effect free unless
# called, and takes its paths from variables with defaults.

log() {
    echo "onestack-guest: $*"
}

# load_modules LIST: insmod the modules LIST names (a file in $MODULES_DIR), in order, but those
# loaded already; adds how many it loaded to MODULES_LOADED (no subshell: a fork costs under TCG).
load_modules() {
    while read -r _module; do
        [ -d "${SYSFS:-/sys}/module/${_module%.ko}" ] && continue
        if insmod "${MODULES_DIR:-/lib/modules}/$_module" 2> "${STATE:-/tmp}/insmod.err"; then
            MODULES_LOADED=$((${MODULES_LOADED:-0} + 1))
        else
            log "module $_module failed: $(cat "${STATE:-/tmp}/insmod.err")"
        fi
    done < "${MODULES_DIR:-/lib/modules}/$1"
}

# pci_class_present PREFIX: whether a PCI device's class (0xCCSSPP) starts with PREFIX.
pci_class_present() {
    for _dev in "${SYSFS:-/sys}"/bus/pci/devices/*; do
        [ -r "$_dev/class" ] || continue
        read -r _class < "$_dev/class"
        case $_class in "$1"*) return 0 ;; esac
    done
    return 1
}

# pci_device_present VENDOR DEVICE...: whether a PCI device of VENDOR has one of the DEVICE ids.
pci_device_present() {
    _vendor=$1
    shift
    for _dev in "${SYSFS:-/sys}"/bus/pci/devices/*; do
        [ -r "$_dev/vendor" ] || continue
        read -r _v < "$_dev/vendor"
        [ "$_v" = "$_vendor" ] || continue
        read -r _d < "$_dev/device"
        for _want in "$@"; do
            [ "$_d" = "$_want" ] && return 0
        done
    done
    return 1
}

# meta_get FLAT KEY: the value of KEY in a file flattened by metadata.awk (first match).
meta_get() {
    sed -n "s/^$2=//p" "$1" | head -n 1
}

# meta_keys FLAT: the public keys, one a line ("public_keys" dict of meta_data.json).
meta_keys() {
    sed -n 's/^public_keys\.[^=]*=//p' "$1"
}

# be32 FILE OFFSET: the big-endian 32-bit unsigned integer at OFFSET.
be32() {
    od -An -tu1 -j "$2" -N 4 "$1" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'
}

# rsa_bits BLOB: the modulus length of an ssh-rsa public key blob (string e, string n).
rsa_bits() {
    _off=$((4 + $(be32 "$1" 0)))
    _off=$((_off + 4 + $(be32 "$1" "$_off")))
    _len=$(be32 "$1" "$_off")
    _off=$((_off + 4))
    _first=$(od -An -tu1 -j "$_off" -N 1 "$1" | tr -d ' ')
    while [ "$_first" = 0 ] && [ "$_len" -gt 0 ]; do
        _off=$((_off + 1))
        _len=$((_len - 1))
        _first=$(od -An -tu1 -j "$_off" -N 1 "$1" | tr -d ' ')
    done
    _bits=$((_len * 8))
    _top=128
    while [ "$_top" -gt 0 ] && [ $((_first & _top)) = 0 ]; do
        _bits=$((_bits - 1))
        _top=$((_top / 2))
    done
    echo "$_bits"
}

# fingerprint LINE: an authorized_keys line's fingerprint as `ssh-keygen -l -E md5` prints it:
#   2048 MD5:12:34:...:ef comment (RSA)
fingerprint() {
    set -f
    # shellcheck disable=SC2086  # split the line into type, blob, comment
    set -- $1
    set +f
    _type=$1
    _blob=$2
    shift 2 || return 1
    _comment=${*:-no comment}
    _bin=${TMPDIR:-/tmp}/key.$$
    echo "$_blob" | base64 -d > "$_bin" 2> /dev/null || {
        rm -f "$_bin"
        return 1
    }
    _md5=$(md5sum < "$_bin" | cut -c 1-32 | sed 's/../&:/g; s/:$//')
    case $_type in
        ssh-rsa) _kind=RSA _size=$(rsa_bits "$_bin") ;;
        ssh-ed25519) _kind=ED25519 _size=256 ;;
        sk-ssh-ed25519@openssh.com) _kind=ED25519-SK _size=256 ;;
        ecdsa-sha2-nistp256) _kind=ECDSA _size=256 ;;
        ecdsa-sha2-nistp384) _kind=ECDSA _size=384 ;;
        ecdsa-sha2-nistp521) _kind=ECDSA _size=521 ;;
        sk-ecdsa-sha2-nistp256@openssh.com) _kind=ECDSA-SK _size=256 ;;
        ssh-dss) _kind=DSA _size=1024 ;;
        *) _kind=$_type _size=0 ;;
    esac
    rm -f "$_bin"
    echo "$_size MD5:$_md5 $_comment ($_kind)"
}

# iso_label DEVICE: the volume label of an ISO 9660 image (primary volume descriptor).
iso_label() {
    dd if="$1" bs=1 skip=32808 count=32 2> /dev/null | tr -d '\000' | sed 's/ *$//'
}

# find_config_drive: the block device labelled config-2 (ISO 9660 or VFAT), or nothing.
find_config_drive() {
    _dev=$(findfs LABEL=config-2 2> /dev/null) && [ -n "$_dev" ] && {
        echo "$_dev"
        return 0
    }
    # findfs misses what its volume_id does not know: read ISO labels directly.
    for _dev in /dev/vd? /dev/sr? /dev/sd? /dev/hd?; do
        [ -b "$_dev" ] || continue
        if [ "$(iso_label "$_dev")" = config-2 ]; then
            echo "$_dev"
            return 0
        fi
    done
    return 1
}

# fetch URL FILE: GET with a few short tries (the metadata service may answer late), a pause
# between tries and none after the last (a missing user_data, a 404, is asked for once).
# The timeout is busybox's `timeout`, not `wget -T`: Debian's static busybox 1.35 wget crashes
# (SIGSEGV) when given -T.
fetch() {
    _try=1
    while :; do
        rm -f "$2"
        if timeout "${FETCH_TIMEOUT:-5}" wget -q -O "$2" "$1" 2> /dev/null; then
            return 0
        fi
        [ "$_try" -lt "${FETCH_TRIES:-3}" ] || break
        _try=$((_try + 1))
        sleep "${FETCH_PAUSE:-1}"
    done
    rm -f "$2"
    return 1
}

# eth0_ip: the first IPv4 address of eth0.
eth0_ip() {
    ip -4 -o addr show dev eth0 2> /dev/null | awk '{ split($4, a, "/"); print a[1]; exit }'
}

# html_escape TEXT
html_escape() {
    echo "$1" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'
}
