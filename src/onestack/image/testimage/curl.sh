#!/bin/sh
# curl in the OneStack test guest: GET of one URL to stdout through busybox wget, enough for
# `curl http://169.254.169.254/latest/meta-data/...` (Tempest reads the metadata service so).
url=
for arg in "$@"; do
    case $arg in
        -*) ;;
        *) url=$arg ;;
    esac
done
[ -n "$url" ] || { echo "curl: no URL given" >&2; exit 2; }
exec timeout 10 wget -q -O - "$url"
