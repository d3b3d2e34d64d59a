#!/bin/sh
# curl in the OneStack test guest: one URL to stdout through busybox wget, GET or POST with -d,
# enough for Tempest's `curl http://169.254.169.254/latest/meta-data/...`, its
# `curl -X POST -d PASSWORD http://169.254.169.254/openstack/latest/password` and the line a
# Heat wait condition handle's curl_cli gives (`curl -i -X POST -H 'X-Auth-Token: ...' ...
# URL --data-binary '{...}'`): -H headers are sent (the handle's token is one).
url=
data=
post=
headers=
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
while [ $# -gt 0 ]; do
    case $1 in
        -X | --request) [ "$2" = POST ] && post=1; shift ;;
        -d | --data | --data-raw | --data-binary) data=$2; post=1; shift ;;
        -H | --header) headers="$headers --header $(quote "$2")"; shift ;;
        -o | --output | -m | --max-time | -u | --user) shift ;;
        -*) ;;
        *) url=$1 ;;
    esac
    shift
done
[ -n "$url" ] || { echo "curl: no URL given" >&2; exit 2; }
if [ -n "$post" ]; then
    eval "exec timeout 10 wget -q -O - $headers --post-data \"\$data\" \"\$url\""
fi
eval "exec timeout 10 wget -q -O - $headers \"\$url\""
