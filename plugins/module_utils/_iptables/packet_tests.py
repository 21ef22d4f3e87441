# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a packet is tested against one rule key: ``test(value, packet)`` with
the key's value as gathered (the config format) gives True (matches), False
(does not) or None (cannot be decided from the packet). keys.py binds them to
the keys; a key without a test is undecidable. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def _split(value):
    text = str(value)
    return text.startswith("!"), text.lstrip("!")


def _known(*values):
    return all(v is not None for v in values)


def _address_test(attr, bounds):
    """The test of an address key on the packet's `attr`: ``bounds(text)`` gives
    (version, contains) of the value without its "!"; an address of the other
    family never matches, negated or not."""

    def test(value, pkt):
        addr = getattr(pkt, attr)
        if addr is None:
            return None
        neg, text = _split(value)
        version, contains = bounds(text)
        if version != addr.version:
            return False
        return contains(addr) != neg

    return test


def _network(text):
    net = ipaddress.ip_network(text, strict=False)
    return net.version, lambda addr: addr in net


def _range(text):
    lo, _sep, hi = text.partition("-")
    a, b = ipaddress.ip_address(lo), ipaddress.ip_address(hi)
    return a.version, lambda addr: a <= addr <= b


def test_address(attr):
    return _address_test(attr, _network)


def test_range(attr):
    return _address_test(attr, _range)


def _in_port_range(port, text):
    lo, _sep, hi = str(text).partition(":")
    return int(lo) <= port <= int(hi or lo)


def test_port(attr):
    def test(value, pkt):
        port = getattr(pkt, attr)
        if port is None:
            return None
        neg, text = _split(value)
        return _in_port_range(port, text) != neg

    return test


def test_ports(value, pkt):
    if pkt.dport is None:
        return None
    return any(_in_port_range(pkt.dport, p) for p in value)


def test_protocol(value, pkt):
    if pkt.proto is None:
        return None
    neg, text = _split(value)
    return (text == pkt.proto) != neg


def test_ctstate(value, pkt):
    if pkt.state is None:
        return None
    return pkt.state in value


def test_syn(value, pkt):
    if pkt.syn is None:
        return None
    return pkt.syn == (value == "match")


def test_icmp_type(value, pkt):
    # only a packet that is not ICMP can be decided today
    if pkt.proto is None or pkt.proto in ("icmp", "ipv6-icmp"):
        return None
    return False


def test_fragment(value, pkt):
    if pkt.fragment is None:
        return None
    return pkt.fragment == bool(value)


def test_interface(attr):
    def test(value, pkt):
        iface = getattr(pkt, attr)
        neg, text = _split(value)
        if iface is not None:
            hit = iface.startswith(text[:-1]) if text.endswith("+") else iface == text
            return hit != neg
        # a packet from an address that is not loopback never arrives on lo
        if attr == "in_iface" and text == "lo" and pkt.src is not None and not pkt.src.is_loopback:
            return neg
        return None

    return test
