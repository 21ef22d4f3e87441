#!/usr/bin/env bash
# make demo: start a lab web container and a client on an internal podman
# network, apply playbooks/demo.yml with the collection, show the rules and one
# allowed and one blocked connection for IPv4 and IPv6. KEEP=1 keeps the lab.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
NET=hostfw-demo
IMAGE=${IMAGE:-localhost/hostfw-lab:debian12}
WEB=hostfw-demo-web
CLIENT=hostfw-demo-client

cleanup() {
  podman rm -f -t 0 "$WEB" "$CLIENT" >/dev/null 2>&1 || true
  podman network rm "$NET" >/dev/null 2>&1 || true
}
[[ ${KEEP:-0} == 1 ]] || trap cleanup EXIT
cleanup

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "lab: $WEB and $CLIENT on the internal network $NET ($IMAGE)"
podman network create --internal --subnet 198.51.100.0/24 --subnet 2001:db8:100::/64 "$NET" >/dev/null
start() { # NAME HOST-NUMBER
  podman run -d --name "$1" --hostname "$1" --network "$NET" --ip "198.51.100.$2" \
    --ip6 "2001:db8:100::$2" --privileged "$IMAGE" sleep infinity >/dev/null
}
start "$WEB" 10
start "$CLIENT" 20
# listeners on the web container: 22 (ssh stand-in), 8080 (web), 9090 (not allowed)
podman exec -d "$WEB" hostfw-probe --listen 22 8080 9090

probe() { # FAMILY ADDRESS PORT
  local out
  out=$(podman exec "$CLIENT" hostfw-probe "$2" "$3" --timeout 2 || true)
  printf '   %-5s %-18s port %-5s -> %s\n' "$1" "$2" "$3" "$out"
}

say "before: every port answers"
probe IPv4 198.51.100.10 9090

say "ansible-playbook playbooks/demo.yml"
ANSIBLE_STDOUT_CALLBACK=default ansible-playbook -i playbooks/inventory/demo.yml playbooks/demo.yml --diff

say "the rules in the kernel (iptables-save / ip6tables-save inside $WEB)"
podman exec "$WEB" iptables-save -t filter | grep -v '^#'
podman exec "$WEB" ip6tables-save -t filter | grep -v '^#'

say "packets from $CLIENT"
probe IPv4 198.51.100.10 8080
probe IPv6 2001:db8:100::10 8080
probe IPv4 198.51.100.10 9090
probe IPv6 2001:db8:100::10 9090
say "8080 is open, 9090 times out (dropped); SSH (22) is open from this client only"
probe IPv4 198.51.100.10 22
