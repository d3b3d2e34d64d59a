#!/bin/sh
# udhcpc's event script in the OneStack test guest: applies a lease (address, MTU, classless
# static routes or the router, DNS). Neutron's DHCP sends the metadata route (169.254.169.254)
# and the MTU of VXLAN networks this way.

[ -n "$interface" ] || exit 1
event=$1
RESOLV_CONF=${RESOLV_CONF:-/etc/resolv.conf}

case "$event" in
    deconfig)
        ip -4 addr flush dev "$interface"
        ip link set dev "$interface" up
        ;;
    bound | renew)
        [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
        ip -4 addr flush dev "$interface"
        ip -4 addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
        # RFC 3442: with classless static routes (option 121) the router option is ignored.
        if [ -n "$staticroutes" ]; then
            # shellcheck disable=SC2086  # pairs "net/len gateway"
            set -- $staticroutes
            while [ $# -ge 2 ]; do
                if [ "$2" = 0.0.0.0 ]; then
                    ip -4 route replace "$1" dev "$interface"
                elif [ "$1" = 0.0.0.0/0 ]; then
                    ip -4 route replace default via "$2" dev "$interface"
                else
                    ip -4 route replace "$1" via "$2" dev "$interface"
                fi
                shift 2
            done
        elif [ -n "$router" ]; then
            for gw in $router; do
                ip -4 route replace default via "$gw" dev "$interface"
                break
            done
        fi
        : > "$RESOLV_CONF"
        [ -n "$domain" ] && echo "search $domain" >> "$RESOLV_CONF"
        for ns in $dns; do
            echo "nameserver $ns" >> "$RESOLV_CONF"
        done
        echo "onestack-guest: dhcp $event $interface $ip/${mask:-24} router ${router:-none}" \
            "mtu ${mtu:-default}"
        ;;
esac
exit 0
