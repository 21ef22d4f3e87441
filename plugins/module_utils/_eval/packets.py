# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A packet of the user's (an entry of ``explain``'s ``packets``) as a Packet.

Defaults make the common case one line: ``{protocol: tcp, destination_port: 22,
source: 192.0.2.10}`` is a NEW TCP SYN to port 22 through INPUT. What the entry
does not say and no default fixes stays unknown (None): a rule that looks at it
is undecided, never guessed. Bad input raises RuleError naming the packet and
the key. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import ipaddress
import re

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.values import protocol
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import FAMILIES
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.packet import Packet
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.values import (
    DIGITS_RE,
    boolean,
    clean_text,
    whole_number,
)

KEYS = (
    "family",
    "hook",
    "protocol",
    "source",
    "destination",
    "source_port",
    "destination_port",
    "in_interface",
    "out_interface",
    "state",
    "tcp_flags",
    "icmp_type",
    "icmp_code",
    "fragment",
    "uid",
    "gid",
    "sets",
)
HOOKS = ("INPUT", "OUTPUT", "FORWARD")
STATES = ("NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED")
# TCP flags of a packet of each state when the entry gives none
TCP_FLAGS_DEFAULT = {"NEW": ("SYN",), "ESTABLISHED": ("ACK",)}
_PORT_NUMBERS = frozenset(V.PROTO_NUMBERS[p] for p in V.PORT_PROTOCOLS)
_PORTS = V.PORT_PROTOCOLS
_IFACE_RE = re.compile(r"^[A-Za-z0-9_.:@-]+$")
_SET_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,31}$")


class _Where:
    """The packet's place in the list, for error messages (the ctx of values.py)."""

    def __init__(self, index):
        self.index = index

    def fail(self, key, msg):
        if key is not None:
            raise RuleError("packet #%s: key '%s': %s" % (self.index, key, msg))
        raise RuleError("packet #%s: %s" % (self.index, msg))


def packets_from(specs, family=None, ignore=()):
    """packet_from for each entry of a list, numbered from 1."""
    if not isinstance(specs, (list, tuple)):
        raise RuleError("packets must be a list of mappings, got %r" % (specs,))
    return [packet_from(s, i, family, ignore) for i, s in enumerate(specs, 1)]


def packet_from(spec, index=1, family=None, ignore=()):
    """The Packet a user's mapping describes. ``index`` numbers the entry in
    messages ("packet #N"); ``family`` is the family when neither the entry's
    ``family``, its addresses nor its protocol tell (else None: unknown);
    ``ignore`` names keys the caller reads itself (such as ``expect``),
    accepted and not looked at."""
    ctx = _Where(index)
    d = _prologue(ctx, spec, ignore)
    hook = d.get("hook", "INPUT")
    if not isinstance(hook, str) or hook.upper() not in HOOKS:
        ctx.fail("hook", "must be one of %s, got %r" % (", ".join(HOOKS), hook))
    hook = hook.upper()
    src = _address(ctx, d, "source")
    dst = _address(ctx, d, "destination")
    fam = _family(ctx, d, family, src, dst)
    proto = _protocol(ctx, d, fam)
    state = d.get("state", "NEW")
    if not isinstance(state, str) or state.upper() not in STATES:
        ctx.fail("state", "must be one of %s, got %r" % (", ".join(STATES), state))
    state = state.upper()
    fragment = boolean(ctx, "fragment", d.get("fragment", False))
    fields = {
        "hook": hook,
        "state": state,
        "fragment": fragment,
        "sport": _port(ctx, d, "source_port", proto, fragment),
        "dport": _port(ctx, d, "destination_port", proto, fragment),
        "in_iface": _interface(ctx, d, "in_interface", hook, "OUTPUT"),
        "out_iface": _interface(ctx, d, "out_interface", hook, "INPUT"),
        "tcp_flags": _tcp_flags(ctx, d, proto, state, fragment),
        "uid": _owner(ctx, d, "uid", hook),
        "gid": _owner(ctx, d, "gid", hook),
        "sets": _sets(ctx, d),
    }
    fields["icmp_type"], fields["icmp_code"] = _icmp(ctx, d, fam, proto, fragment)
    if proto is None and fields["icmp_type"] is not None:
        proto = "ipv6-icmp" if fam == "ipv6" else "icmp"
    return Packet(fam, src, dst, proto, **fields)


def _prologue(ctx, spec, ignore):
    """The entry's keys with a value: a mapping, no unknown key."""
    if not isinstance(spec, dict):
        ctx.fail(None, "a packet must be a mapping, got %r" % (spec,))
    known = KEYS + tuple(ignore)
    unknown = sorted((k for k in spec if k not in known), key=str)
    if unknown:
        hint = difflib.get_close_matches(str(unknown[0]), known, 1)
        tail = (" (did you mean '%s'?)" % hint[0]) if hint else ""
        ctx.fail(unknown[0], "unknown key%s; known keys: %s" % (tail, ", ".join(KEYS)))
    return {k: v for k, v in spec.items() if v is not None and k not in ignore}


def _address(ctx, d, key):
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        ctx.fail(key, "expected an IPv4 or IPv6 address, got %r" % (value,))
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        ctx.fail(
            key,
            "%r is not an IP address (one address: not a network, not a host name)" % (value,),
        )


def _version_family(addr):
    return "ipv4" if addr.version == 4 else "ipv6"


def _family(ctx, d, default, src, dst):
    """The entry's family, else its addresses', else its protocol's (ICMPv6),
    else ``default``; None when nothing tells."""
    fam = d.get("family")
    if fam is not None and fam not in FAMILIES:
        ctx.fail("family", "must be ipv4 or ipv6, got %r" % (fam,))
    for key, addr in (("source", src), ("destination", dst)):
        if addr is None:
            continue
        mine = _version_family(addr)
        if fam is not None and mine != fam:
            what = "family %s" % fam if "family" in d else "the source is %s" % fam
            ctx.fail(key, "%s is an %s address, but %s" % (addr, mine, what))
        fam = mine
    if fam is None and "protocol" in d:
        try:
            _neg, n = protocol(ctx, d["protocol"])
        except RuleError:
            n = None  # _protocol says what is wrong with it
        if n == 58:
            fam = "ipv6"
    if fam is None and default is not None:
        if default not in FAMILIES:
            raise RuleError("packet #%s: the default family must be ipv4 or ipv6" % ctx.index)
        fam = default
    return fam


def _protocol(ctx, d, fam):
    """The protocol's canonical name ('ipv6-icmp' for ICMP in IPv6) or number."""
    if "protocol" not in d:
        return None
    value = d["protocol"]
    if isinstance(value, bool):
        ctx.fail("protocol", "expected a protocol name or number, got %r" % (value,))
    neg, n = protocol(ctx, value)
    if neg or n == 0:
        ctx.fail("protocol", "a packet has one protocol: not %r" % (value,))
    if n == 58 and fam == "ipv4":
        ctx.fail("protocol", "ICMPv6 (%r) is not a protocol of an IPv4 packet" % (value,))
    if n == 1 and fam == "ipv6":
        n = 58
    return V.PROTO_CANON.get(n, str(n))


def _number(proto):
    return int(proto) if DIGITS_RE.fullmatch(proto) else V.PROTO_NUMBERS[proto]


def _port(ctx, d, key, proto, fragment):
    if key not in d:
        return None
    if proto is None or _number(proto) not in _PORT_NUMBERS:
        ctx.fail(key, "needs protocol %s or %s" % (", ".join(_PORTS[:-1]), _PORTS[-1]))
    if fragment:
        ctx.fail(key, "a second or later fragment (fragment: true) carries no ports")
    return whole_number(ctx, key, d[key], 0, 65535)


def _interface(ctx, d, key, hook, wrong_hook):
    if key not in d:
        return None
    name = clean_text(ctx, key, d[key])
    if not _IFACE_RE.match(name) or len(name.encode("utf-8")) > V.IFNAME_MAX:
        ctx.fail(key, "%r is not an interface name (at most 15 characters, no '+')" % name)
    if hook == wrong_hook:
        ctx.fail(key, "a packet through %s has no %s" % (hook, key.replace("_", " ")))
    return name


def _tcp_flags(ctx, d, proto, state, fragment):
    """The set TCP flags: the entry's, else those of the state's usual packet."""
    if "tcp_flags" not in d:
        if proto != "tcp" or fragment:
            return None
        return TCP_FLAGS_DEFAULT.get(state)
    value = d["tcp_flags"]
    if proto != "tcp":
        ctx.fail("tcp_flags", "needs protocol tcp")
    if fragment:
        ctx.fail("tcp_flags", "a second or later fragment (fragment: true) has no TCP header")
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)):
        ctx.fail("tcp_flags", "expected a list of flags, got %r" % (value,))
    flags = set()
    for flag in value:
        f = str(flag).strip().upper()
        if f not in V.TCP_FLAGS:
            ctx.fail("tcp_flags", "unknown TCP flag %r (%s)" % (flag, ", ".join(V.TCP_FLAGS)))
        flags.add(f)
    return frozenset(flags)


def _icmp(ctx, d, fam, proto, fragment):
    """(type, code) of an ICMP packet; a name maps per family."""
    if "icmp_type" not in d:
        if "icmp_code" in d:
            ctx.fail("icmp_code", "needs icmp_type")
        return None, None
    value = d["icmp_type"]
    if proto not in (None, "icmp", "ipv6-icmp"):
        ctx.fail("icmp_type", "needs protocol icmp (or ipv6-icmp), not %s" % proto)
    if fragment:
        ctx.fail("icmp_type", "a second or later fragment (fragment: true) has no ICMP header")
    code = None
    if isinstance(value, str) and not DIGITS_RE.fullmatch(value.strip()):
        spec = _icmp_name(ctx, value.strip(), fam)
        text, _sep, code_text = spec.partition("/")
        number = int(text)
        code = int(code_text) if code_text else None
    else:
        number = whole_number(ctx, "icmp_type", value, 0, 255)
    if "icmp_code" in d:
        given = whole_number(ctx, "icmp_code", d["icmp_code"], 0, 255)
        if code is not None and given != code:
            ctx.fail("icmp_code", "%d contradicts icmp_type %r (code %d)" % (given, value, code))
        code = given
    return number, code


def _icmp_name(ctx, name, fam):
    """'type' or 'type/code' of an ICMP type name in the family."""
    if name == "any":
        ctx.fail("icmp_type", "a packet has one ICMP type: not 'any'")
    if "/" in name:
        ctx.fail("icmp_type", "give the code as icmp_code, not in %r" % name)
    families = (fam,) if fam is not None else FAMILIES
    values = set()
    for f in families:
        spec = V.ICMP_NAMES[f].get(name)
        if spec is None:
            ctx.fail(
                "icmp_type",
                "unknown ICMP type name %r for %s" % (name, f) + _hint(name, V.ICMP_NAMES[f]),
            )
        values.add(spec)
    if len(values) > 1:
        ctx.fail(
            "icmp_type",
            "%r is a different type in IPv4 and IPv6: give family, an address, or a number" % name,
        )
    return values.pop()


def _hint(word, candidates):
    hint = difflib.get_close_matches(word, [c for c in candidates if c != "any"], 1)
    return " (did you mean '%s'?)" % hint[0] if hint else ""


def _owner(ctx, d, key, hook):
    if key not in d:
        return None
    if hook != "OUTPUT":
        ctx.fail(key, "only a packet this host sends (hook OUTPUT) has an owner")
    value = d[key]
    if isinstance(value, str) and not DIGITS_RE.fullmatch(value.strip()):
        ctx.fail(key, "expected a number, got %r (names are not resolved here)" % (value,))
    return whole_number(ctx, key, value, 0, 4294967294)


def _sets(ctx, d):
    """{set name: [members]} with each member an address or network as text."""
    if "sets" not in d:
        return None
    value = d["sets"]
    if not isinstance(value, dict):
        ctx.fail("sets", "expected a mapping of set names to lists of members, got %r" % (value,))
    out = {}
    for name, members in value.items():
        if not isinstance(name, str) or not _SET_RE.match(name):
            ctx.fail("sets", "%r is not a valid ipset name" % (name,))
        if isinstance(members, str):
            members = [members]
        if not isinstance(members, (list, tuple)):
            ctx.fail("sets", "set %s: expected a list of members, got %r" % (name, members))
        out[name] = [_member(ctx, name, m) for m in members]
    return out


def _member(ctx, name, member):
    try:
        net = ipaddress.ip_network(str(member).strip(), strict=False)
    except ValueError:
        ctx.fail("sets", "set %s: %r is not an address or network" % (name, member))
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)
