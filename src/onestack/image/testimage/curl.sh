#!/bin/sh
# curl in the OneStack test guest: one URL to stdout through busybox wget, GET or POST with -d,
# enough for Tempest's `curl http://169.254.169.254/latest/meta-data/...` and its
# `curl -X POST -d PASSWORD http://169.254.169.254/openstack/latest/password`.
url=
data=
post=
while [ $# -gt 0 ]; do
    case $1 in
        -X | --request) [ "$2" = POST ] && post=1; shift ;;
        -d | --data | --data-raw | --data-binary) data=$2; post=1; shift ;;
        -H | --header | -o | --output | -m | --max-time | -u | --user) shift ;;
        -*) ;;
        *) url=$1 ;;
    esac
    shift
done
[ -n "$url" ] || { echo "curl: no URL given" >&2; exit 2; }
if [ -n "$post" ]; then
    exec timeout 10 wget -q -O - --post-data "$data" "$url"
fi
exec timeout 10 wget -q -O - "$url"
