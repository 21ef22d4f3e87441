# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a packet is tested against one rule key: ``test(value, packet, rule=None)``
with the key's value as ``gather.structured`` reads it back (the config format)
gives True (matches), False (does not) or None (cannot be decided from the
packet). ``rule`` is the whole mapping the value came from, for a test that
reads a companion key (match_set reads match_set_flags); without it such a
test decides what it can. keys.py binds them to the keys; a key without a
test is undecidable.

The tests follow the kernel's matches: a port, TCP flag or ICMP match never
matches a second or later fragment, nor a packet of another protocol, negated
or not. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.values import DIGITS_RE

_PORT_PROTOCOLS = frozenset(V.PROTO_NUMBERS[p] for p in V.PORT_PROTOCOLS)
_TCP = frozenset((6,))
_ICMP = frozenset((1, 58))
_SYN_MASK = frozenset(V.SYN_MASK)
_ALL_FLAGS = frozenset(V.TCP_FLAGS)
# conntrack states a single packet does not show (the connection was NATed)
_NAT_STATES = frozenset(("SNAT", "DNAT"))


def _split(value):
    text = str(value).strip()
    return text.startswith("!"), text.lstrip("!").strip()


def _proto_number(word, family):
    """A protocol name or number as a number (ICMP is ICMPv6 in IPv6), or None."""
    w = str(word).strip().lower()
    n = int(w) if DIGITS_RE.fullmatch(w) else V.PROTO_NUMBERS.get(w)
    if n == 1 and family == "ipv6":
        n = 58
    return n


def _packet_proto(pkt):
    return None if pkt.proto is None else _proto_number(pkt.proto, pkt.family)


def _excluded(pkt, protocols):
    """True when a match of these protocols cannot match the packet at all: a
    second or later fragment, or a packet of another protocol."""
    if pkt.fragment:
        return True
    n = _packet_proto(pkt)
    return n is not None and n not in protocols


# ---------------------------------------------------------------- addresses


def _address_test(attr, bounds):
    """The test of an address key on the packet's `attr`: ``bounds(text)`` gives
    (version, contains) of the value without its "!"; an address of the other
    family never matches, negated or not."""

    def test(value, pkt, rule=None):
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
    a, b = ipaddress.ip_address(lo.strip()), ipaddress.ip_address(hi.strip())
    return a.version, lambda addr: a.version == addr.version and a <= addr <= b


def test_address(attr):
    return _address_test(attr, _network)


def test_range(attr):
    return _address_test(attr, _range)


def test_interface(attr):
    """-i/-o NAME, NAME+ (a prefix; '+' alone is any interface), '!' negates."""

    def test(value, pkt, rule=None):
        iface = getattr(pkt, attr)
        neg, text = _split(value)
        if iface is not None:
            hit = iface.startswith(text[:-1]) if text.endswith("+") else iface == text
            return hit != neg
        if text == "+":
            return not neg  # every packet has an interface where -i/-o may be used
        # a packet from another host's address never arrives on lo (one from an
        # address of this host to itself does: src == dst is left undecided)
        src = pkt.src
        remote = src is not None and not src.is_loopback and src != pkt.dst
        if attr == "in_iface" and text == "lo" and remote:
            return neg
        return None

    return test


# ---------------------------------------------------------------- protocol and ports


def test_protocol(value, pkt, rule=None):
    """-p NAME or number, '!' negates; 'all' (0) matches every packet; 'icmp'
    is ICMPv6 in IPv6. Unknown names are undecided."""
    neg, text = _split(value)
    want = _proto_number(text, pkt.family)
    if want == 0:
        return not neg
    have = _packet_proto(pkt)
    if have is None or want is None:
        return None
    # ICMP of either family when the family is unknown: the family decides
    hit = want == have or (pkt.family is None and {want, have} <= _ICMP)
    return hit != neg


def test_fragment(value, pkt, rule=None):
    if pkt.fragment is None:
        return None
    return pkt.fragment == bool(value)


def _port_bounds(text):
    """'22' -> (22, 22); '1000:2000'; '1000:' -> (1000, 65535); ':80' -> (0, 80)."""
    lo, sep, hi = str(text).strip().partition(":")
    first = int(lo) if lo else 0
    if not sep:
        return first, first
    return first, int(hi) if hi else 65535


def _in_port_range(port, text):
    lo, hi = _port_bounds(text)
    return lo <= port <= hi


def test_port(attr):
    """--sport/--dport PORT or FIRST:LAST, '!' negates."""

    def test(value, pkt, rule=None):
        if _excluded(pkt, _PORT_PROTOCOLS):
            return False
        port = getattr(pkt, attr)
        if port is None:
            return None
        neg, text = _split(value)
        return _in_port_range(port, text) != neg

    return test


def test_ports(value, pkt, rule=None):
    """multiport --dports: a list of ports and FIRST:LAST ranges."""
    if _excluded(pkt, _PORT_PROTOCOLS):
        return False
    if pkt.dport is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    return any(_in_port_range(pkt.dport, p) for p in value)


# ---------------------------------------------------------------- TCP flags


def _flag_set(words):
    out = set()
    for word in words:
        w = str(word).strip().upper()
        if w == "ALL":
            out |= _ALL_FLAGS
        elif w != "NONE":
            out.add(w)
    return out


def _known_flags(pkt):
    """(the packet's flags, the flags known) or None: all of them when tcp_flags
    is given, FIN/SYN/RST/ACK of a packet known to be a SYN."""
    if pkt.tcp_flags is not None:
        return set(pkt.tcp_flags), _ALL_FLAGS
    if pkt.syn:
        return {"SYN"}, _SYN_MASK
    return None


def test_syn(value, pkt, rule=None):
    """'match': FIN,SYN,RST,ACK with only SYN set; 'negate': all other TCP."""
    if value == "ignore":
        return True
    if _excluded(pkt, _TCP):
        return False
    if pkt.syn is None:
        return None
    return pkt.syn == (value == "match")


def test_tcp_flags(value, pkt, rule=None):
    """{'flags': mask, 'flags_set': set}: matches when the packet's flags within
    the mask are exactly the set ones."""
    if _excluded(pkt, _TCP):
        return False
    known = _known_flags(pkt)
    mask = _flag_set(value.get("flags") or [])
    if known is None or not mask <= known[1]:
        return None
    return known[0] & mask == _flag_set(value.get("flags_set") or [])


# ---------------------------------------------------------------- ICMP


def _icmp_spec(text, family):
    """'any', or (type, code or None) of an ICMP type name or 'type[/code]'
    in the family; None for a name the family does not have."""
    if text == "any":
        return text
    names = V.ICMP_NAMES[family]
    spec = names.get(V.ICMP_EQUIV[family].get(text, text), text)
    if spec == "any":
        return spec
    t, sep, c = spec.partition("/")
    if not DIGITS_RE.fullmatch(t) or (sep and not DIGITS_RE.fullmatch(c)):
        return None
    if int(t) == 255:
        return "any"
    return int(t), (int(c) if sep else None)


def test_icmp_type(value, pkt, rule=None):
    """--icmp-type / --icmpv6-type NAME, TYPE or TYPE/CODE, 'any', '!' negates;
    names map per family (echo-request is 8 in IPv4, 128 in IPv6)."""
    if _excluded(pkt, _ICMP):
        return False
    n = _packet_proto(pkt)
    if n is None:
        return None
    family = pkt.family or ("ipv6" if n == 58 else "ipv4")
    neg, text = _split(value)
    spec = _icmp_spec(text, family)
    if spec is None:
        return None
    if spec == "any":
        return not neg
    if pkt.icmp_type is None:
        return None
    if pkt.icmp_type != spec[0]:
        hit = False
    elif spec[1] is None:
        hit = True
    elif pkt.icmp_code is None:
        return None
    else:
        hit = pkt.icmp_code == spec[1]
    return hit != neg


# ---------------------------------------------------------------- other matches


def test_match_set(value, pkt, rule=None):
    """--match-set NAME FLAGS, '!' negates: decided only when the packet says
    which addresses the set holds (pkt.sets); the address looked up is the one
    of the first flag of match_set_flags (src or dst). Without the rule's
    flags, decided when the source and the destination agree."""
    if pkt.sets is None:
        return None
    neg, name = _split(value)
    members = pkt.sets.get(name)
    if members is None:
        return None
    flags = (rule or {}).get("match_set_flags")
    sides = [str(flags).split(",", 1)[0].strip()] if flags else ["src", "dst"]
    nets = [ipaddress.ip_network(m, strict=False) for m in members]
    answers = set()
    for side in sides:
        addr = pkt.src if side == "src" else pkt.dst
        if addr is None:
            return None
        answers.add(any(addr in net for net in nets))
    if len(answers) != 1:
        return None
    return answers.pop() != neg


def test_ctstate(value, pkt, rule=None):
    """A list of conntrack states (or one comma-separated string)."""
    if pkt.state is None:
        return None
    neg = False
    if isinstance(value, str):
        neg, value = _split(value)
        value = value.split(",")
    states = {str(s).strip().upper() for s in value}
    if pkt.state.upper() in states:
        return not neg
    if states & _NAT_STATES:
        return None  # the connection may have been NATed
    return neg


def test_limit(value, pkt, rule=None):
    """A rate: one packet cannot tell whether it is within it."""
    return None


def test_owner(attr):
    """--uid-owner / --gid-owner ID or FIRST-LAST, '!' negates."""

    def test(value, pkt, rule=None):
        ident = getattr(pkt, attr)
        if ident is None:
            return None
        neg, text = _split(value)
        lo, sep, hi = text.partition("-")
        if not DIGITS_RE.fullmatch(lo) or (sep and not DIGITS_RE.fullmatch(hi)):
            return None  # a name: not resolved here
        hit = int(lo) <= ident <= int(hi if sep else lo)
        return hit != neg

    return test
