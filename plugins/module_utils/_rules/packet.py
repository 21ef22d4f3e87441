# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A packet as the evaluators see it. Fields left as None are unknown: a rule
key that needs them cannot be decided. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Packet:
    """family 'ipv4'/'ipv6'; src, dst: ipaddress objects; proto: a protocol
    name ('tcp', 'udp', 'icmp'...); sport, dport: ints; state: a conntrack
    state ('NEW', 'ESTABLISHED'...); syn: a TCP SYN without ACK; fragment:
    a non-first fragment; in_iface, out_iface: interface names."""

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
    )

    def __init__(self, family, src, dst, proto, **fields):
        self.family = family
        self.src = src
        self.dst = dst
        self.proto = proto
        for name in self.__slots__[4:]:
            setattr(self, name, fields.pop(name, None))
        if fields:
            raise TypeError("unknown packet fields: %s" % ", ".join(sorted(fields)))
