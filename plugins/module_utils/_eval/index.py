# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which rules of a long chain can match a packet at all, without trying each.

Every rule goes into one bucket, by the first of its keys that pins a packet
field to one value: an exact TCP/UDP destination port, else a (non-negated)
source network, else a destination network, else an exact incoming interface,
else its conntrack states (a rule with several is found under each); the rest
are tried for every packet. A packet then needs only the rules of its port's bucket, of the
networks holding its addresses (one lookup per prefix length in use) and the
rest, merged back into chain order. A field the packet leaves unknown takes
every rule of that kind, since those rules cannot be decided without it. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
from heapq import merge

INDEX_FROM = 32  # chains with fewer rules are walked rule by rule
_PORT_PROTOS = ("tcp", "udp")


def _port_key(tests):
    proto = port = None
    for key, _test, value in tests:
        if key == "protocol":
            proto = value
        elif key == "destination_port":
            port = value
    if proto in _PORT_PROTOS and isinstance(port, int) and not isinstance(port, bool):
        return proto, port
    return None


def _iface_key(tests):
    for key, _test, value in tests:
        if key == "in_interface" and isinstance(value, str):
            if value.startswith("!") or value.endswith("+"):
                return None
            return value
    return None


_PLAIN_STATES = frozenset(("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED"))


def _state_key(tests):
    """The conntrack states a rule needs, when they are plain states."""
    for key, _test, value in tests:
        if key == "ctstate" and isinstance(value, (list, tuple)):
            states = frozenset(str(v).upper() for v in value)
            return states if states and states <= _PLAIN_STATES else None
    return None


def _net_key(tests, key_name):
    for key, _test, value in tests:
        if key == key_name and isinstance(value, str) and not value.startswith("!"):
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                return None
            return (
                net.version,
                net.prefixlen,
                int(net.network_address) >> (net.max_prefixlen - net.prefixlen),
            )
    return None


class ChainIndex:
    """The buckets of one chain's rules (each rule: a list of (key, test,
    value) as the evaluator compiled it, or None for a rule outside the
    vocabulary)."""

    __slots__ = (
        "rest",
        "ports",
        "all_ports",
        "nets",
        "all_nets",
        "ifaces",
        "all_ifaces",
        "states",
        "all_states",
    )

    def __init__(self, rule_tests):
        self.rest, self.ports, self.all_ports = [], {}, []
        self.nets = {"source": {}, "destination": {}}
        self.all_nets = {"source": [], "destination": []}
        self.ifaces, self.all_ifaces = {}, []
        self.states, self.all_states = {}, []
        for i, tests in enumerate(rule_tests):
            if tests is None:  # a raw rule: tried for every packet
                self.rest.append(i)
                continue
            key = _port_key(tests)
            if key is not None:
                self.ports.setdefault(key, []).append(i)
                self.all_ports.append(i)
                continue
            for side in ("source", "destination"):
                key = _net_key(tests, side)
                if key is not None:
                    version, plen, prefix = key
                    self.nets[side].setdefault((version, plen), {}).setdefault(prefix, []).append(i)
                    self.all_nets[side].append(i)
                    break
            else:
                self._other(i, tests)

    def _other(self, i, tests):
        key = _iface_key(tests)
        if key is not None:
            self.ifaces.setdefault(key, []).append(i)
            self.all_ifaces.append(i)
            return
        states = _state_key(tests)
        if states is not None:
            for state in states:
                self.states.setdefault(state, []).append(i)
            self.all_states.append(i)
            return
        self.rest.append(i)

    def candidates(self, pkt):
        """The indexes of the rules that can match `pkt`, in chain order."""
        lists = [self.rest]
        if pkt.dport is None or pkt.proto is None:
            lists.append(self.all_ports)
        else:
            lists.append(self.ports.get((pkt.proto, pkt.dport), ()))
        for side, addr in (("source", pkt.src), ("destination", pkt.dst)):
            buckets = self.nets[side]
            if not buckets:
                continue
            if addr is None:
                lists.append(self.all_nets[side])
                continue
            bits, value = addr.max_prefixlen, int(addr)
            for (version, plen), table in buckets.items():
                if version == addr.version:
                    hit = table.get(value >> (bits - plen))
                    if hit:
                        lists.append(hit)
        if self.ifaces:
            if pkt.in_iface is None:
                lists.append(self.all_ifaces)
            else:
                lists.append(self.ifaces.get(pkt.in_iface, ()))
        if self.states:
            if pkt.state is None:
                lists.append(self.all_states)
            else:
                lists.append(self.states.get(str(pkt.state).upper(), ()))
        lists = [x for x in lists if x]
        if len(lists) == 1:
            return lists[0]
        return merge(*lists)
