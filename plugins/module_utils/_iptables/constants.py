# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Constant tables of the iptables dialect: names the kernel tools accept and how
``iptables-save`` prints them back. Facts measured with iptables 1.8.9 (nf_tables
and legacy) in a network namespace; the unit and property tests re-check them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


COMMENT_MAX = 255  # xt_comment stores 256 bytes including the NUL


CHAIN_MAX = 28  # "chain name too long (must be under 29 chars)"


IFNAME_MAX = 15  # IFNAMSIZ - 1


LOG_PREFIX_MAX = 29


BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "raw": ("PREROUTING", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}


POLICIES = ("ACCEPT", "DROP")


# Targets that are not chains. Anything else in jump/goto must be a user chain.
TARGETS = frozenset(
    (
        "ACCEPT DROP RETURN QUEUE REJECT LOG NFLOG NFQUEUE MASQUERADE SNAT DNAT REDIRECT "
        "MARK CONNMARK CT NOTRACK TCPMSS TRACE CLASSIFY TEE AUDIT CHECKSUM DSCP TOS TTL HL "
        "SET SECMARK CONNSECMARK SYNPROXY"
    ).split()
)


# Targets that exist only in some tables (measured with iptables 1.8.9, nf_tables
# and legacy: the kernel refuses them elsewhere). Targets not listed here are
# left to the kernel.
TARGET_TABLES = {
    "MASQUERADE": ("nat",),
    "SNAT": ("nat",),
    "DNAT": ("nat",),
    "REDIRECT": ("nat",),
    "CHECKSUM": ("mangle",),
    "DSCP": ("mangle",),
    "TOS": ("mangle",),
    "TTL": ("mangle",),
    "HL": ("mangle",),
    "CT": ("raw",),
    "NOTRACK": ("raw",),
    "REJECT": ("filter",),
    "DROP": ("filter", "mangle", "raw", "security"),
    "CONNSECMARK": ("mangle", "security"),
    "SYNPROXY": ("filter", "security"),
    "CLASSIFY": ("filter", "nat", "mangle", "security"),
    "TCPMSS": ("filter", "nat", "mangle", "security"),
}

# Protocols. iptables-save prints a protocol by the host's /etc/protocols name and
# falls back to its built-in list, then to the number; both sides of every
# comparison are normalised to the names below (the built-in list) or a number.
PROTO_NUMBERS = {
    "tcp": 6,
    "udp": 17,
    "udplite": 136,
    "icmp": 1,
    "ipv6-icmp": 58,
    "icmpv6": 58,
    "icmp6": 58,
    "esp": 50,
    "ah": 51,
    "sctp": 132,
    "mh": 135,
    "ipv6-mh": 135,
    "gre": 47,
    "ipip": 4,
    "ipencap": 4,
    "ipv6": 41,
    "dccp": 33,
    "igmp": 2,
    "pim": 103,
    "vrrp": 112,
    "ospf": 89,
    "ospfigp": 89,
    "all": 0,
}


PROTO_CANON = {6: "tcp", 17: "udp", 136: "udplite", 1: "icmp", 58: "ipv6-icmp", 50: "esp"}
PROTO_CANON.update({51: "ah", 132: "sctp", 135: "mh"})


PORT_PROTOCOLS = ("tcp", "udp", "sctp", "udplite", "dccp")


# the per-protocol match that carries --sport/--dport
PORT_MATCH = {"tcp": "tcp", "udp": "udp", "sctp": "sctp", "dccp": "dccp"}


CTSTATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")
# what the older state match (-m state --state) knows of them
STATE_MATCH_STATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED")


TCP_FLAGS = ("FIN", "SYN", "RST", "PSH", "ACK", "URG")


SYN_MASK = ("FIN", "SYN", "RST", "ACK")


LOG_LEVELS = {
    "emerg": 0,
    "alert": 1,
    "crit": 2,
    "error": 3,
    "err": 3,
    "warning": 4,
    "warn": 4,
    "notice": 5,
    "info": 6,
    "debug": 7,
}


LOG_LEVEL_DEFAULT = 4


# limit match: the kernel stores a period of XT_LIMIT_SCALE*seconds/N and the
# save code prints it back in the largest unit that keeps an integer count.
LIMIT_SCALE = 10000


LIMIT_UNITS = (("day", 86400), ("hour", 3600), ("min", 60), ("sec", 1))


LIMIT_UNIT_ALIASES = {
    "s": "sec",
    "sec": "sec",
    "second": "sec",
    "m": "min",
    "min": "min",
    "minute": "min",
    "h": "hour",
    "hour": "hour",
    "d": "day",
    "day": "day",
}


LIMIT_DEFAULT = "3/hour"


LIMIT_BURST_DEFAULT = 5


# ICMP type names. Values are "type" or "type/code" as iptables-save prints them.
ICMP4 = {
    "any": "any",
    "echo-reply": "0",
    "pong": "0",
    "destination-unreachable": "3",
    "network-unreachable": "3/0",
    "host-unreachable": "3/1",
    "protocol-unreachable": "3/2",
    "port-unreachable": "3/3",
    "fragmentation-needed": "3/4",
    "source-route-failed": "3/5",
    "network-unknown": "3/6",
    "host-unknown": "3/7",
    "network-prohibited": "3/9",
    "host-prohibited": "3/10",
    "TOS-network-unreachable": "3/11",
    "TOS-host-unreachable": "3/12",
    "communication-prohibited": "3/13",
    "host-precedence-violation": "3/14",
    "precedence-cutoff": "3/15",
    "source-quench": "4",
    "redirect": "5",
    "network-redirect": "5/0",
    "host-redirect": "5/1",
    "TOS-network-redirect": "5/2",
    "TOS-host-redirect": "5/3",
    "echo-request": "8",
    "ping": "8",
    "router-advertisement": "9",
    "router-solicitation": "10",
    "time-exceeded": "11",
    "ttl-exceeded": "11",
    "ttl-zero-during-transit": "11/0",
    "ttl-zero-during-reassembly": "11/1",
    "parameter-problem": "12",
    "ip-header-bad": "12/0",
    "required-option-missing": "12/1",
    "timestamp-request": "13",
    "timestamp-reply": "14",
    "address-mask-request": "17",
    "address-mask-reply": "18",
}


ICMP6 = {
    "destination-unreachable": "1",
    "no-route": "1/0",
    "communication-prohibited": "1/1",
    "beyond-scope": "1/2",
    "address-unreachable": "1/3",
    "port-unreachable": "1/4",
    "failed-policy": "1/5",
    "reject-route": "1/6",
    "packet-too-big": "2",
    "time-exceeded": "3",
    "ttl-exceeded": "3",
    "ttl-zero-during-transit": "3/0",
    "ttl-zero-during-reassembly": "3/1",
    "parameter-problem": "4",
    "bad-header": "4/0",
    "unknown-header-type": "4/1",
    "unknown-option": "4/2",
    "echo-request": "128",
    "ping": "128",
    "echo-reply": "129",
    "pong": "129",
    "router-solicitation": "133",
    "router-advertisement": "134",
    "neighbour-solicitation": "135",
    "neighbor-solicitation": "135",
    "neighbour-advertisement": "136",
    "neighbor-advertisement": "136",
    "redirect": "137",
}


# Names that mean the same job in the other family, so one rule with
# ip_version: both does it for both (PMTU discovery above all).
ICMP_EQUIV = {
    "ipv6": {"fragmentation-needed": "packet-too-big", "host-unreachable": "address-unreachable"},
    "ipv4": {"packet-too-big": "fragmentation-needed", "address-unreachable": "host-unreachable"},
}


ICMP_NAMES = {"ipv4": ICMP4, "ipv6": ICMP6}


# canonical value -> preferred name, for gathering
ICMP_REVERSE = {}


for _fam, _table in ICMP_NAMES.items():
    _rev = {}
    for _name, _value in _table.items():
        _rev.setdefault(_value, _name)
    ICMP_REVERSE[_fam] = _rev


REJECT_DEFAULT = {"ipv4": "icmp-port-unreachable", "ipv6": "icmp6-port-unreachable"}


# accepted spellings -> (ipv4 value, ipv6 value); None where the family has none
REJECT_ALIASES = {
    "icmp-net-unreachable": ("icmp-net-unreachable", "icmp6-no-route"),
    "net-unreach": ("icmp-net-unreachable", "icmp6-no-route"),
    "icmp-host-unreachable": ("icmp-host-unreachable", "icmp6-addr-unreachable"),
    "host-unreach": ("icmp-host-unreachable", "icmp6-addr-unreachable"),
    "icmp-port-unreachable": ("icmp-port-unreachable", "icmp6-port-unreachable"),
    "port-unreach": ("icmp-port-unreachable", "icmp6-port-unreachable"),
    "icmp-proto-unreachable": ("icmp-proto-unreachable", None),
    "proto-unreach": ("icmp-proto-unreachable", None),
    "icmp-net-prohibited": ("icmp-net-prohibited", "icmp6-adm-prohibited"),
    "net-prohib": ("icmp-net-prohibited", "icmp6-adm-prohibited"),
    "icmp-host-prohibited": ("icmp-host-prohibited", "icmp6-adm-prohibited"),
    "host-prohib": ("icmp-host-prohibited", "icmp6-adm-prohibited"),
    "icmp-admin-prohibited": ("icmp-admin-prohibited", "icmp6-adm-prohibited"),
    "admin-prohib": ("icmp-admin-prohibited", "icmp6-adm-prohibited"),
    "tcp-reset": ("tcp-reset", "tcp-reset"),
    "icmp6-no-route": ("icmp-net-unreachable", "icmp6-no-route"),
    "no-route": ("icmp-net-unreachable", "icmp6-no-route"),
    "icmp6-adm-prohibited": ("icmp-admin-prohibited", "icmp6-adm-prohibited"),
    "adm-prohibited": ("icmp-admin-prohibited", "icmp6-adm-prohibited"),
    "icmp6-addr-unreachable": ("icmp-host-unreachable", "icmp6-addr-unreachable"),
    "addr-unreach": ("icmp-host-unreachable", "icmp6-addr-unreachable"),
    "icmp6-port-unreachable": ("icmp-port-unreachable", "icmp6-port-unreachable"),
    "icmp6-policy-fail": (None, "icmp6-policy-fail"),
    "policy-fail": (None, "icmp6-policy-fail"),
    "icmp6-reject-route": (None, "icmp6-reject-route"),
    "reject-route": (None, "icmp6-reject-route"),
}


MATCH_SET_FLAGS = ("src", "dst", "src,dst", "dst,src", "src,src", "dst,dst")
