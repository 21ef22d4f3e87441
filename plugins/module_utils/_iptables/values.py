# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values whose canonical form is iptables' own: limit rates, protocols, TCP flags.
Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.values import (
    DIGITS_RE,
    split_neg,
    utf8_size,
)


def limit_rate(ctx, key, value):
    """Canonical '--limit' text: the save code prints the stored period back in the
    largest unit that divides it evenly (60/minute comes back as 1/sec)."""
    text = str(value).strip()
    num, _sep, unit = text.partition("/")
    if not DIGITS_RE.fullmatch(num) or int(num) == 0:
        ctx.fail(key, "expected a rate like '5/second' or '10/minute', got %r" % (value,))
    unit = V.LIMIT_UNIT_ALIASES.get((unit or "sec").strip().lower())
    if unit is None:
        ctx.fail(key, "unknown unit in %r; use second, minute, hour or day" % (value,))
    mult = V.LIMIT_SCALE * dict(V.LIMIT_UNITS)[unit]
    count = int(num)
    if count > mult:
        ctx.fail(key, "rate %r is too fast for the limit match" % (value,))
    period = mult // count
    # mirror libxt_limit's print_rate
    units = V.LIMIT_UNITS
    i = 1
    while i < len(units):
        m = V.LIMIT_SCALE * units[i][1]
        if period > m or m // period < m % period:
            break
        i += 1
    m = V.LIMIT_SCALE * units[i - 1][1]
    return "%d/%s" % (m // period, units[i - 1][0])


def limit_period(rate):
    """The kernel's stored period for a canonical rate like '5/min'."""
    num, _sep, unit = rate.partition("/")
    return V.LIMIT_SCALE * dict(V.LIMIT_UNITS)[unit] // int(num)


def protocol(ctx, value):
    neg, v = split_neg(value)
    v = str(v).strip().lower()
    if DIGITS_RE.fullmatch(v):
        n = int(v)
        if n > 255:
            ctx.fail("protocol", "protocol number %d is out of range 0-255" % n)
    elif v in V.PROTO_NUMBERS:
        n = V.PROTO_NUMBERS[v]
    else:
        ctx.fail("protocol", "unknown protocol %r (use a name like tcp or a number)" % (value,))
    return neg, n


def proto_token(number, family):
    if number == 1 and family == "ipv6":
        number = 58
    return V.PROTO_CANON.get(number, str(number))


def normalise_proto_word(word):
    """Normalise a protocol as printed by save (host-dependent) to our canonical word."""
    w = word.lower()
    n = int(w) if DIGITS_RE.fullmatch(w) else V.PROTO_NUMBERS.get(w)
    if n is None:
        return word
    return V.PROTO_CANON.get(n, str(n))


def tcp_flag_set(ctx, flags):
    out = set()
    for fl in flags if isinstance(flags, (list, tuple)) else [flags]:
        fl = str(fl).strip().upper()
        if fl == "ALL":
            out.update(V.TCP_FLAGS)
        elif fl == "NONE":
            continue
        elif fl in V.TCP_FLAGS:
            out.add(fl)
        else:
            ctx.fail("tcp_flags", "unknown TCP flag %r" % fl)
    return out


def flags_text(flags):
    return ",".join(x for x in V.TCP_FLAGS if x in flags) or "NONE"


# characters iptables-restore treats as quoting or escaping; a chain name is
# written unquoted in restore text ('-A NAME', ':NAME - [0:0]', '-j NAME')
_CHAIN_BAD_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\"'\\\\]|\\s")


def chain_name_problem(name):
    """Why `name` cannot be a chain or target name, or None when it can.

    The message names no chain, so that callers can say where it was given.
    Refused: a non-string or empty name; control characters (C0 with NUL,
    DEL, C1 such as U+0085) and lone surrogates; any whitespace (Unicode too:
    U+00A0, U+2028...); a quote or backslash; a leading '!' or '-'; more than
    CHAIN_MAX (28) bytes of UTF-8, which is what the kernel counts
    (XT_EXTENSION_MAXNAMELEN is 29 bytes with the NUL; measured with iptables
    1.8.9, nf_tables and legacy: 28 bytes pass, 29 do not, whatever the
    number of characters). Target names (ACCEPT...) pass: whether a name may
    be a user chain is the caller's question."""
    if not isinstance(name, str):
        return "a chain name must be a string, got %r" % (name,)
    if not name:
        return "a chain needs a name"
    m = _CHAIN_BAD_RE.search(name)
    if m:
        c = m.group(0)
        o = ord(c)
        if 0xD800 <= o < 0xE000:
            return "it is not valid UTF-8 text"
        if o < 32 or 127 <= o < 160:
            return "control characters are not allowed (U+%04X)" % o
        if c.isspace():
            return "whitespace is not allowed (U+%04X)" % o
        return "quotes and backslashes are not allowed"
    if name[0] in "!-":
        return "it must not start with '!' or '-'"
    size = utf8_size(name)
    if size > V.CHAIN_MAX:
        return "%d bytes of UTF-8; the kernel allows at most %d" % (size, V.CHAIN_MAX)
    return None
