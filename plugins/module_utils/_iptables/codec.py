# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How each rule key is written in and read back from ``iptables-save`` words.

``render(p, x)`` gives the words of one key for one expansion ``x`` of a parsed
rule (its family, source, destination and name), in the canonical form save
prints; ``read(args, neg, family, d)`` puts the value that the option's words
``args`` stand for into the rule mapping ``d``, or returns False when the
vocabulary cannot say it (the rule is then gathered as ``raw``). keys.py binds
them to the keys. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.values import (
    proto_token,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import (
    comment_text,
    split_comment,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.values import DIGITS_RE


class Expansion:
    """One kernel rule a parsed rule expands to: family, source, destination, name."""

    __slots__ = ("family", "src", "dst", "name")

    def __init__(self, family, src, dst, name):
        self.family = family
        self.src = src
        self.dst = dst
        self.name = name


def _neg(neg):
    return ["!"] if neg else []


def _negated(value, neg):
    return "!" + str(value) if neg else value


def _port_value(text, neg):
    if not neg and DIGITS_RE.fullmatch(text):
        return int(text)
    return _negated(text, neg)


# ---------------------------------------------------------------- render


def render_address(flag, attr):
    def render(p, x):
        addr = getattr(x, attr)
        if addr is None or addr[2] is None:
            return []
        return _neg(addr[0]) + [flag, addr[2]]

    return render


def render_pair(flag, key):
    """`[!] FLAG WORD...` from fields[key] = (negated, word, ...)."""

    def render(p, x):
        value = p.fields.get(key)
        if value is None:
            return []
        return _neg(value[0]) + [flag] + list(value[1:])

    return render


def render_plain(flag, key):
    def render(p, x):
        value = p.fields.get(key)
        return [] if value is None else [flag, str(value)]

    return render


def render_ctstate(p, x):
    value = p.fields.get("ctstate")
    if value is None:
        return []
    state = p.fields.get("ctstate_module") == "state"
    return ["--state" if state else "--ctstate", value]


def render_protocol(p, x):
    if p.proto is None:
        return []
    return _neg(p.proto[0]) + ["-p", proto_token(p.proto[1], x.family)]


def render_fragment(p, x):
    return ["-f"] if "fragment" in p.fields else []


def render_port(flag, key):
    def render(p, x):
        value = p.fields.get(key)
        if value is None or value[1] == "0:65535":
            return []
        return _neg(value[0]) + [flag, value[1]]

    return render


def render_icmp_type(p, x):
    value = p.fields.get("icmp_type")
    if value is None:
        return []
    neg, values = value
    flag = "--icmp-type" if x.family == "ipv4" else "--icmpv6-type"
    return _neg(neg) + [flag, values[x.family]]


def render_limit(p, x):
    value = p.fields.get("limit")
    if value is None:
        return []
    rate, burst = value
    out = ["--limit", rate]
    if burst != V.LIMIT_BURST_DEFAULT:
        out += ["--limit-burst", str(burst)]
    return out


def render_comment(p, x):
    text = comment_text(x.name, p.comment)
    return [] if text is None else ["--comment", text]


def render_reject_with(p, x):
    if p.fields.get("jump") != "REJECT":
        return []
    rw = p.fields.get("reject_with", {}).get(x.family) or V.REJECT_DEFAULT[x.family]
    return ["--reject-with", rw]


def render_log_level(p, x):
    level = p.fields.get("log_level", V.LOG_LEVEL_DEFAULT)
    if p.fields.get("jump") != "LOG" or level == V.LOG_LEVEL_DEFAULT:
        return []
    return ["--log-level", str(level)]


# ---------------------------------------------------------------- read back


def read_value(key, allow_neg=True, convert=None):
    """d[key] = the option's one argument (negated with a leading '!')."""

    def read(args, neg, family, d):
        if neg and not allow_neg:
            return False
        value = args[0] if convert is None else convert(args[0])
        d[key] = _negated(value, neg)
        return True

    return read


def read_protocol(args, neg, family, d):
    d["protocol"] = _negated("icmp" if args[0] == "ipv6-icmp" else args[0], neg)
    return True


def read_fragment(args, neg, family, d):
    if neg:
        return False
    d["fragment"] = True
    return True


def read_port(key):
    def read(args, neg, family, d):
        d[key] = _port_value(args[0], neg)
        return True

    return read


def read_tcp_flags(args, neg, family, d):
    mask, comp = args
    if mask == ",".join(V.SYN_MASK) and comp == "SYN":
        d["syn"] = "negate" if neg else "match"
        return True
    if neg:
        return False
    d["tcp_flags"] = {
        "flags": mask.split(","),
        "flags_set": [] if comp == "NONE" else comp.split(","),
    }
    return True


def read_icmp_type(args, neg, family, d):
    d["icmp_type"] = _negated(V.ICMP_REVERSE[family].get(args[0], args[0]), neg)
    return True


def _port_list(text):
    return [_port_value(x, False) for x in text.split(",")]


read_ports = read_value("destination_ports", allow_neg=False, convert=_port_list)


def read_match_set(args, neg, family, d):
    d["match_set"] = _negated(args[0], neg)
    d["match_set_flags"] = args[1]
    return True


def _states(text):
    return text.split(",")


read_ctstate = read_value("ctstate", allow_neg=False, convert=_states)


def read_state(args, neg, family, d):
    """-m state --state: the states, and match: [state] to write it so again."""
    if neg or not read_ctstate(args, neg, family, d):
        return False
    d["match"] = ["state"]
    return True


def read_comment(args, neg, family, d):
    if neg:
        return False
    name, comment = split_comment(args[0])
    if name is not None:
        d["name"] = name
    if comment is not None:
        d["comment"] = comment
    return True


def read_target(key):
    return read_value(key, allow_neg=False)


def read_reject_with(args, neg, family, d):
    if neg:
        return False
    if args[0] != V.REJECT_DEFAULT[family]:
        d["reject_with"] = args[0]
    return True
