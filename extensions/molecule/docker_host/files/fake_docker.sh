#!/bin/sh
# A stand-in for what dockerd does to a host's network, for the docker_host
# scenario (there is no Docker in the lab).
#   fake_docker.sh plumb   a "container": network namespace ctr behind a veth
#                          named docker0 (192.0.2.128/26, 2001:db8:d0c::/64),
#                          listening on port 80; forwarding on
#   fake_docker.sh start   dockerd starting: DOCKER-USER created when missing and
#                          given Docker's RETURN when it has none, its FORWARD
#                          jump, DOCKER and DOCKER-ISOLATION-STAGE-1/2, FORWARD
#                          policy DROP, nat rules, and port 8080 of the host
#                          published to port 80 of ctr. A no-op when done already.
set -eu
BR4=192.0.2.129 CTR4=192.0.2.130 NET4=192.0.2.128/26 LO4=127.0.0.0/8
BR6=2001:db8:d0c::1 CTR6=2001:db8:d0c::2 NET6=2001:db8:d0c::/64 LO6=::1/128

rules() { # CTR NET LOOPBACK DNAT-TARGET
  cat <<RULES
*nat
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d $3 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s $2 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination $4
COMMIT
*filter
:FORWARD DROP [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
-I FORWARD 1 -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d $1 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
COMMIT
RULES
}

case "$1" in
plumb)
  ip netns add ctr
  ip link add docker0 type veth peer name eth0 netns ctr
  ip addr add $BR4/26 dev docker0
  ip -6 addr add $BR6/64 dev docker0 nodad
  ip link set docker0 up
  ip -n ctr addr add $CTR4/26 dev eth0
  ip -n ctr -6 addr add $CTR6/64 dev eth0 nodad
  ip -n ctr link set lo up
  ip -n ctr link set eth0 up
  ip -n ctr route add default via $BR4
  ip -n ctr -6 route add default via $BR6
  sysctl -qw net.ipv4.ip_forward=1
  sysctl -qw net.ipv6.conf.all.forwarding=1
  ;;
start)
  if iptables -w -S DOCKER >/dev/null 2>&1; then exit 0; fi
  for t in iptables ip6tables; do
    $t -w -N DOCKER-USER 2>/dev/null || true
    $t -w -C DOCKER-USER -j RETURN 2>/dev/null || $t -w -A DOCKER-USER -j RETURN
  done
  rules $CTR4/32 $NET4 $LO4 $CTR4:80 | iptables-restore -w --noflush
  rules $CTR6/128 $NET6 $LO6 "[$CTR6]:80" | ip6tables-restore -w --noflush
  ;;
docker-rules) # Docker's rules as they matter here: no counters, no DOCKER-USER contents
  for t in iptables ip6tables; do
    echo "== $t"
    $t-save | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//' | grep -v '^-A DOCKER-USER '
  done
  ;;
*)
  echo "usage: $0 plumb|start|docker-rules" >&2
  exit 2
  ;;
esac
