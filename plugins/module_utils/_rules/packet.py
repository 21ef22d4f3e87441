# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A packet as the evaluators see it. Fields left as None are unknown: a rule
key that needs them cannot be decided. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


# the flags the syn key examines (--tcp-flags FIN,SYN,RST,ACK SYN)
_SYN_MASK = frozenset(("FIN", "SYN", "RST", "ACK"))


class Packet:
    """One packet; every field but the first four is a keyword.

    family 'ipv4'/'ipv6' (None: taken from src or dst when they are known);
    src, dst: ipaddress objects; proto: 'tcp', 'udp', 'icmp', 'ipv6-icmp'
    ('icmpv6'), 'sctp'... or a number as a string; sport, dport: ints;
    state: a conntrack state ('NEW', 'ESTABLISHED', 'RELATED', 'INVALID',
    'UNTRACKED'); tcp_flags: the set TCP flags ({'SYN'}, {'SYN', 'ACK'}...),
    kept as a frozenset; syn: a TCP SYN without ACK, RST or FIN (derived from
    tcp_flags when not given); icmp_type, icmp_code: ints; fragment: a second
    or later fragment; in_iface, out_iface: interface names; uid, gid: the
    local sender's ids (OUTPUT only); sets: None (the ipsets are unknown) or
    {set name: [member addresses or networks as strings]}; hook: the built-in
    chain the packet traverses ('INPUT', 'OUTPUT', 'FORWARD')."""

    __slots__ = (
        "family",
        "src",
        "dst",
        "proto",
        "sport",
        "dport",
        "state",
        "syn",
        "fragment",
        "in_iface",
        "out_iface",
        "tcp_flags",
        "icmp_type",
        "icmp_code",
        "uid",
        "gid",
        "sets",
        "hook",
    )

    def __init__(self, family, src, dst, proto, **fields):
        self.src = src
        self.dst = dst
        self.proto = proto
        for name in self.__slots__[4:]:
            setattr(self, name, fields.pop(name, None))
        if fields:
            raise TypeError("unknown packet fields: %s" % ", ".join(sorted(fields)))
        if family is None:
            family = _family_of(src, dst)
        self.family = family
        if self.tcp_flags is not None:
            self.tcp_flags = frozenset(f.upper() for f in self.tcp_flags)
            if self.syn is None:
                self.syn = self.tcp_flags & _SYN_MASK == {"SYN"}

    def as_dict(self):
        """The known fields as plain data (addresses as text, sets of flags as
        sorted lists), for results and messages."""
        out = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value is None:
                continue
            if name in ("src", "dst"):
                value = str(value)
            elif name == "tcp_flags":
                value = sorted(value)
            elif name == "sets":
                value = {k: list(v) for k, v in value.items()}
            out[name] = value
        return out

    def __repr__(self):
        return "Packet(%s)" % ", ".join("%s=%r" % kv for kv in sorted(self.as_dict().items()))


def _family_of(*addresses):
    for addr in addresses:
        if addr is not None:
            return "ipv4" if addr.version == 4 else "ipv6"
    return None
