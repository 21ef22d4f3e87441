# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks and canonical forms of single values: addresses, ranges, ports, numbers,
booleans, text. Pure: no Ansible import, no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import math
import re

# C0 controls, DEL, C1 controls (U+0080-U+009F, e.g. U+0085 NEL) and lone
# surrogates (undecodable bytes that reached us through surrogateescape)
_CTRL_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


# ASCII digits only: str.isdigit() and \d also accept '²' (U+00B2), U+0661 and other
# Unicode digits, which int() refuses or reads differently from iptables
DIGITS_RE = re.compile(r"[0-9]+")


_WHOLE_RE = re.compile(r"[+-]?[0-9]+")


_V4_RE = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?:/([0-9]{1,2}))?")


_ADDRESS_CACHE = {}


def split_neg(value):
    if isinstance(value, str):
        v = value.strip()
        if v.startswith("!"):
            return True, v[1:].strip()
        return False, v
    return False, value


def as_list(ctx, key, value):
    if isinstance(value, (list, tuple)):
        if not value:
            ctx.fail(key, "must not be an empty list")
        return list(value)
    return [value]


def address(ctx, key, value):
    """-> (negated, family, canonical 'addr/len') or (neg, family, None) for /0."""
    try:
        return _ADDRESS_CACHE[value]
    except (KeyError, TypeError):
        pass
    result = _fast_v4(value) or _parse_address(ctx, key, value)
    if isinstance(value, str) and len(_ADDRESS_CACHE) < 100000:
        _ADDRESS_CACHE[value] = result
    return result


def _fast_v4(value):
    """Plain dotted-quad IPv4 without leading zeros, the common case, without
    the cost of the ipaddress module."""
    m = _V4_RE.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        return None
    octets = m.groups()[:4]
    if any(len(o) > 1 and o[0] == "0" for o in octets):
        return None
    nums = [int(o) for o in octets]
    plen_text = m.group(5)
    if plen_text is not None and len(plen_text) > 1 and plen_text[0] == "0":
        return None  # '/08': iptables reads the prefix length as C does (octal)
    plen = int(plen_text) if plen_text is not None else 32
    if max(nums) > 255 or plen > 32:
        return None
    if plen == 0:
        return False, "ipv4", None
    addr = (nums[0] << 24) | (nums[1] << 16) | (nums[2] << 8) | nums[3]
    addr &= (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
    text = "%d.%d.%d.%d/%d" % (addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255, plen)
    return False, "ipv4", text


def _mask_problem(v):
    """Why the text after '/' in `v` is not a prefix length or a contiguous
    IPv4 netmask the way iptables reads it, or None."""
    _addr, sep, mask = v.partition("/")
    if not sep:
        return None
    if DIGITS_RE.fullmatch(mask):
        if len(mask) > 1 and mask[0] == "0":
            # iptables parses the length with strtoul(base 0): /024 is /20, /08 an error
            return "the prefix length %r has a leading zero (iptables reads it as octal)" % mask
        return None
    if "." not in mask:
        return None  # left to ipaddress, which refuses it
    try:
        bits = int(ipaddress.IPv4Address(mask))
    except ValueError:
        return None
    inv = bits ^ 0xFFFFFFFF
    if inv & (inv + 1):
        # ipaddress reads 0.0.0.255 as a Cisco-style hostmask (/24); iptables
        # matches the bits set in the mask: 10.1.2.3/0.0.0.255 is stored as
        # 0.0.0.3/0.0.0.255, and 255.0.255.0 as 10.0.2.0/255.0.255.0
        return (
            "the mask %s is not a contiguous netmask (iptables would match only the "
            "address bits set in it); write a prefix length such as /24" % mask
        )
    return None


def _parse_address(ctx, key, value):
    neg, v = split_neg(value)
    if not isinstance(v, str) or not v:
        ctx.fail(key, "expected an IPv4 or IPv6 address or network, got %r" % (value,))
    if "%" in v:
        # ipaddress keeps a scope ('fe80::1%eth0'); ip6tables drops it
        ctx.fail(key, "%r: an address in a rule cannot carry a scope ('%%zone')" % (value,))
    problem = _mask_problem(v)
    if problem is not None:
        ctx.fail(key, "%r: %s" % (value, problem))
    try:
        net = ipaddress.ip_network(v, strict=False)
    except ValueError:
        ctx.fail(
            key,
            "'%s' is not an IP address or network (host names are not resolved: "
            "a firewall rule must not depend on DNS)" % v,
        )
    fam = "ipv4" if net.version == 4 else "ipv6"
    if net.prefixlen == 0:
        if neg:
            ctx.fail(key, "%r matches no address at all" % (value,))
        return neg, fam, None
    return neg, fam, "%s/%d" % (fmt_addr(net.network_address), net.prefixlen)


def fmt_addr(addr):
    """Format an address as glibc's inet_ntop does (which is what save prints)."""
    if addr.version == 6:
        packed = addr.packed
        if packed[:10] == b"\x00" * 10 and packed[10:12] in (b"\xff\xff", b"\x00\x00"):
            tail = ipaddress.IPv4Address(packed[12:])
            if packed[10:12] == b"\xff\xff":
                return "::ffff:%s" % tail
            if int(tail) > 0xFFFF:
                return "::%s" % tail
    return str(addr)


def ip_range(ctx, key, value):
    neg, v = split_neg(value)
    parts = v.split("-") if isinstance(v, str) else []
    if len(parts) != 2:
        ctx.fail(key, "expected 'FIRST-LAST' addresses, got %r" % (value,))
    try:
        a = ipaddress.ip_address(parts[0].strip())
        b = ipaddress.ip_address(parts[1].strip())
    except ValueError:
        ctx.fail(key, "'%s' is not a range of IP addresses" % v)
    if a.version != b.version:
        ctx.fail(key, "'%s' mixes IPv4 and IPv6" % v)
    if int(a) > int(b):
        ctx.fail(key, "'%s' ends before it starts" % v)
    fam = "ipv4" if a.version == 4 else "ipv6"
    return neg, fam, "%s-%s" % (fmt_addr(a), fmt_addr(b))


def _port_number(ctx, key, text, original):
    if not DIGITS_RE.fullmatch(text):
        ctx.fail(
            key,
            "%r is not a port number or range (service names are not resolved)" % (original,),
        )
    n = int(text)
    if n > 65535:
        ctx.fail(key, "port %d is out of range 0-65535" % n)
    return n


def port(ctx, key, value, allow_neg=True):
    """-> (negated, canonical text) with ranges as 'LOW:HIGH'."""
    if isinstance(value, bool):
        ctx.fail(key, "expected a port number, got %r" % (value,))
    if isinstance(value, int):
        neg, v = False, str(value)
    else:
        neg, v = split_neg(value)
        if not isinstance(v, str):
            ctx.fail(key, "expected a port number or range, got %r" % (value,))
    if neg and not allow_neg:
        ctx.fail(key, "a list element cannot be negated")
    if ":" in v or "-" in v.lstrip("-"):
        lo, _sep, hi = v.replace("-", ":").partition(":")
        lo_n = _port_number(ctx, key, lo.strip() or "0", value)
        hi_n = _port_number(ctx, key, hi.strip() or "65535", value)
        if lo_n > hi_n:
            ctx.fail(key, "port range %r ends before it starts" % (value,))
    else:
        lo_n = hi_n = _port_number(ctx, key, v, value)
    if neg and lo_n == 0:
        # nf_tables stores a negated range from port 0 as its complement and
        # prints that back; legacy accepts the complement as well
        if hi_n == 65535:
            ctx.fail(key, "%r matches no port at all" % (value,))
        neg = False
        lo_n, hi_n = hi_n + 1, 65535
    if lo_n == hi_n:
        return neg, str(lo_n)
    return neg, "%d:%d" % (lo_n, hi_n)


def whole_number(ctx, key, value, lo, hi):
    """An int in lo..hi from an int, an integral float (5.0) or a string of
    ASCII digits. Refused: booleans, 5.7, inf/nan, '²', '1_000', '5.0'."""
    if isinstance(value, bool):
        ctx.fail(key, "expected a whole number, got %r" % (value,))
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            ctx.fail(key, "expected a whole number, got %r" % (value,))
        n = int(value)
    elif isinstance(value, str) and _WHOLE_RE.fullmatch(value.strip(" \t")):
        n = int(value.strip(" \t"))
    else:
        ctx.fail(key, "expected a whole number, got %r" % (value,))
    if not lo <= n <= hi:
        ctx.fail(key, "%d is out of range %d-%d" % (n, lo, hi))
    return n


def boolean(ctx, key, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "true", "on", "1"):
        return True
    if isinstance(value, str) and value.lower() in ("no", "false", "off", "0"):
        return False
    ctx.fail(key, "expected a boolean, got %r" % (value,))


def clean_text(ctx, key, value):
    """A string (an int is taken as its digits) without control characters.

    Refused: C0 controls (NUL, tab, newline...), DEL, the C1 controls
    U+0080-U+009F (U+0085 NEL among them) and lone surrogates (bytes that are
    not UTF-8). Stored literally: every other character, including the line
    and paragraph separators U+2028/U+2029 and other Unicode spaces; saved
    text is split on newlines only and words on ASCII blanks only, so they
    come back unchanged. Length limits are the caller's, in UTF-8 bytes."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        ctx.fail(key, "expected a string, got %r" % (value,))
    value = str(value)
    m = _CTRL_RE.search(value)
    if m:
        c = m.group(0)
        if "\ud800" <= c <= "\udfff":
            ctx.fail(key, "is not valid UTF-8 text")
        ctx.fail(key, "must not contain control characters or newlines (U+%04X)" % ord(c))
    return value


def utf8_size(text):
    """Length of `text` as the kernel counts it: bytes of UTF-8."""
    return len(text.encode("utf-8", "surrogatepass"))
