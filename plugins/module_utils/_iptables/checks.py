# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The value check of each rule key: ``check(ctx, value, p)`` validates one key
of a rule mapping and stores its canonical value in the Parsed record ``p``
(``p.fields[key]``, or the addresses, protocol and target it decides). The
table in keys.py says which check belongs to which key and runs them in its
order, so a check may rely on the rows above it (ports on the protocol). Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.values import (
    chain_name_problem,
    flags_text,
    limit_period,
    limit_rate,
    protocol,
    tcp_flag_set,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules import naming as N
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.values import (
    address,
    as_list,
    boolean,
    clean_text,
    ip_range,
    port,
    split_neg,
    whole_number,
)

_IFACE_RE = re.compile(r"^[A-Za-z0-9_.:@-]+\+?$")
_SET_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,31}$")
_ICMP_NUMBER_RE = re.compile(r"^[0-9]{1,3}(/[0-9]{1,3})?$")


class Parsed:
    """A validated rule, before it is split by family and address.

    ``allowed``: the families the task manages and the rule's ``ip_version``
    allows; ``inferred``: the families its own keys allow, with ``narrowed_by``
    naming the key behind each narrowing (for the error when they leave none)."""

    __slots__ = (
        "data",
        "name",
        "comment",
        "explicit",
        "allowed",
        "inferred",
        "narrowed_by",
        "families",
        "sources",
        "dests",
        "proto",
        "fields",
        "numeric_icmp",
        "matches",
    )

    def __init__(self, data, families):
        self.data = data
        self.name = self.comment = self.explicit = self.proto = None
        self.allowed = set(families)
        self.inferred = set(N.FAMILIES)
        self.narrowed_by = []
        self.families = set()
        self.sources = [None]
        self.dests = [None]
        self.fields = {}
        self.numeric_icmp = False
        self.matches = ()  # the match modules named in `match`, as text

    def narrow(self, key, families):
        self.inferred &= set(families)
        self.narrowed_by.append((key, frozenset(families)))

    @property
    def proto_name(self):
        return V.PROTO_CANON.get(self.proto[1]) if self.proto else None

    @property
    def tcp_only(self):
        return self.proto_name == "tcp" and not self.proto[0]


# ---------------------------------------------------------------- addresses


def check_source(ctx, value, p):
    p.sources = [address(ctx, "source", a) for a in as_list(ctx, "source", value)]


def check_destination(ctx, value, p):
    p.dests = [address(ctx, "destination", a) for a in as_list(ctx, "destination", value)]


def check_range(ctx, value, p, key):
    neg, fam, text = ip_range(ctx, key, value)
    p.narrow(key, {fam})
    p.fields[key] = (neg, text)


def check_interface(ctx, value, p, key):
    bad = ("OUTPUT", "POSTROUTING") if key == "in_interface" else ("INPUT", "PREROUTING")
    neg, v = split_neg(clean_text(ctx, key, value))
    if not _IFACE_RE.match(v) or len(v.encode("utf-8")) > V.IFNAME_MAX:
        ctx.fail(key, "%r is not a valid interface name (at most 15 characters)" % v)
    if ctx.chain in bad:
        ctx.fail(key, "cannot be used in chain %s" % ctx.chain)
    p.fields[key] = (neg, v)


# ---------------------------------------------------------------- protocol and ports


def check_protocol(ctx, value, p):
    neg, n = protocol(ctx, value)
    if n == 0 and neg:
        ctx.fail("protocol", "'! all' matches nothing")
    if n == 58:
        p.narrow("protocol", {"ipv6"})
    p.proto = (neg, n) if n != 0 else None


def check_fragment(ctx, value, p):
    if boolean(ctx, "fragment", value):
        p.narrow("fragment", {"ipv4"})
        p.fields["fragment"] = True


def _ports_ok(p):
    return p.proto is not None and not p.proto[0] and p.proto_name in V.PORT_PROTOCOLS


def check_port(ctx, value, p, key):
    if not _ports_ok(p):
        ctx.fail(key, "needs protocol tcp, udp, sctp or dccp")
    if p.proto_name not in V.PORT_MATCH:
        ctx.fail(key, "is not supported for protocol %s" % p.proto_name)
    p.fields[key] = port(ctx, key, value)


def check_ports(ctx, value, p):
    key = "destination_ports"
    if not _ports_ok(p):
        ctx.fail(key, "needs protocol tcp, udp, sctp, udplite or dccp")
    if isinstance(value, str) and "," in value:  # one string, as ansible.builtin.iptables takes it
        value = [x.strip() for x in value.split(",")]
    plist = as_list(ctx, key, value)
    if len(plist) > 15:
        ctx.fail(key, "the multiport match takes at most 15 ports")
    p.fields[key] = ",".join(port(ctx, key, x, allow_neg=False)[1] for x in plist)


def check_syn(ctx, value, p):
    if value not in ("match", "negate", "ignore"):
        ctx.fail("syn", "must be match, negate or ignore; got %r" % (value,))
    if value != "ignore":
        if not p.tcp_only:
            ctx.fail("syn", "needs protocol tcp")
        p.fields["tcp_flags"] = (value == "negate", ",".join(V.SYN_MASK), "SYN")


def check_tcp_flags(ctx, value, p):
    if "tcp_flags" in p.fields:
        ctx.fail("tcp_flags", "cannot be combined with syn")
    if not p.tcp_only:
        ctx.fail("tcp_flags", "needs protocol tcp")
    if not isinstance(value, dict) or set(value) - {"flags", "flags_set"}:
        ctx.fail("tcp_flags", "expected a mapping with 'flags' and 'flags_set' lists")
    mask = tcp_flag_set(ctx, value.get("flags") or [])
    comp = tcp_flag_set(ctx, value.get("flags_set") or [])
    if not mask:
        ctx.fail("tcp_flags", "'flags' must name at least one flag")
    p.fields["tcp_flags"] = (False, flags_text(mask), flags_text(comp))


def check_icmp_type(ctx, value, p):
    neg, t = split_neg(value)
    t = str(t).strip()
    if p.proto is None:
        p.proto = (False, 1)
    if p.proto[1] not in (1, 58) or p.proto[0]:
        ctx.fail("icmp_type", "needs protocol icmp (or icmpv6), not %r" % (p.data["protocol"],))
    if _ICMP_NUMBER_RE.match(t):
        nums = [int(x) for x in t.split("/")]
        if any(x > 255 for x in nums):
            ctx.fail("icmp_type", "%r is out of range 0-255" % t)
        canon = "/".join(str(x) for x in nums)
        if canon == "255" or canon.startswith("255/"):
            canon = "any"
        p.numeric_icmp = True
        p.fields["icmp_type"] = (neg, {fam: canon for fam in N.FAMILIES})
        return
    values = {}
    for fam in N.FAMILIES:
        name = V.ICMP_EQUIV[fam].get(t, t)
        if name in V.ICMP_NAMES[fam]:
            values[fam] = V.ICMP_NAMES[fam][name]
    if not values:
        ctx.fail("icmp_type", "unknown ICMP type name %r" % t)
    p.narrow("icmp_type", set(values))
    p.fields["icmp_type"] = (neg, values)


# ---------------------------------------------------------------- other matches


def check_ctstate(ctx, value, p):
    """A list of states, or one comma-separated string as ansible.builtin.iptables
    takes it. With match: [state] (and not conntrack) the rule uses the older
    state match (-m state --state), as ansible.builtin.iptables writes it."""
    states = set()
    for item in as_list(ctx, "ctstate", value):
        for s in str(item).split(","):
            s = s.strip().upper()
            if s not in V.CTSTATES:
                ctx.fail("ctstate", "unknown state %r (known: %s)" % (s, ", ".join(V.CTSTATES)))
            states.add(s)
    p.fields["ctstate"] = ",".join(s for s in V.CTSTATES if s in states)
    if "state" in p.matches and "conntrack" not in p.matches:
        if states - set(V.STATE_MATCH_STATES):
            ctx.fail(
                "ctstate",
                "the state match (match: [state]) knows only %s; use the conntrack match "
                "for %s" % (", ".join(V.STATE_MATCH_STATES), ", ".join(sorted(states))),
            )
        p.fields["ctstate_module"] = "state"


def check_match_set(ctx, value, p):
    neg, setname = split_neg(clean_text(ctx, "match_set", value))
    if not _SET_RE.match(setname):
        ctx.fail("match_set", "%r is not a valid ipset name" % setname)
    flags = p.data.get("match_set_flags")
    if flags not in V.MATCH_SET_FLAGS:
        ctx.fail("match_set_flags", "must be one of %s" % ", ".join(V.MATCH_SET_FLAGS))
    p.fields["match_set"] = (neg, setname, flags)


def check_match_set_flags(ctx, value, p):
    del value  # read by check_match_set
    if "match_set" not in p.data:
        ctx.fail("match_set_flags", "needs match_set")


def check_limit(ctx, value, p):
    """limit and limit_burst together; either alone implies the other's default."""
    del value
    d = p.data
    rate = limit_rate(ctx, "limit", d.get("limit", V.LIMIT_DEFAULT))
    burst = whole_number(ctx, "limit_burst", d.get("limit_burst", V.LIMIT_BURST_DEFAULT), 1, 10000)
    if limit_period(rate) * burst >= 1 << 32:
        ctx.fail(
            "limit_burst" if "limit_burst" in d else "limit",
            "%s with a burst of %d overflows the kernel's limit match; use a faster rate "
            "or a smaller burst" % (rate, burst),
        )
    p.fields["limit"] = (rate, burst)


def check_limit_burst(ctx, value, p):
    """limit_burst alone (with limit, check_limit has checked both)."""
    if "limit" not in p.data:
        check_limit(ctx, value, p)


def check_owner(ctx, value, p, key):
    if ctx.chain in ("INPUT", "FORWARD", "PREROUTING"):
        ctx.fail(key, "the owner match works only in OUTPUT and POSTROUTING")
    neg, v = split_neg(value)
    p.fields[key] = (neg, str(whole_number(ctx, key, v, 0, 4294967294)))


def check_comment(ctx, value, p):
    p.comment = clean_text(ctx, "comment", value)


# ---------------------------------------------------------------- target


def _check_target(ctx, key, target):
    target = clean_text(ctx, key, target)
    problem = chain_name_problem(target)
    if problem is not None:
        ctx.fail(key, "%r is not a valid target or chain name: %s" % (target, problem))
    if key == "goto" and target in V.TARGETS:
        ctx.fail("goto", "goto needs a user chain, not %s" % target)
    if target in V.BUILTIN_CHAINS.get(ctx.table, ()):
        ctx.fail(key, "cannot jump to the built-in chain %s" % target)
    tables = V.TARGET_TABLES.get(target)
    if tables is not None and ctx.table not in tables:
        ctx.fail(
            key,
            "target %s does not exist in table %s (only in %s)"
            % (target, ctx.table, ", ".join(tables)),
        )
    return target


def check_jump(ctx, value, p):
    if p.data.get("goto") is not None:
        ctx.fail("goto", "jump and goto cannot both be set")
    p.fields["jump"] = _check_target(ctx, "jump", value)


def check_goto(ctx, value, p):
    p.fields["goto"] = _check_target(ctx, "goto", value)


def _needs_target(ctx, p, key, target, implied):
    """The target option `key` belongs to; `implied` makes it the rule's target
    when none is given (reject_with implies REJECT, log_prefix and log_level
    imply LOG, as in ansible.builtin.iptables)."""
    if implied and "jump" not in p.fields and "goto" not in p.fields:
        p.fields["jump"] = _check_target(ctx, "jump", target)
    if p.fields.get("jump") != target:
        ctx.fail(key, "needs jump: %s" % target)


def check_reject_with(ctx, value, p):
    _needs_target(ctx, p, "reject_with", "REJECT", implied=True)
    rw = V.REJECT_ALIASES.get(str(value).strip())
    if rw is None:
        ctx.fail("reject_with", "unknown reject type %r" % (value,))
    fams = {fam for fam, v in zip(N.FAMILIES, rw) if v is not None}
    if len(fams) < 2:
        p.narrow("reject_with", fams)
    if "tcp-reset" in rw and not p.tcp_only:
        ctx.fail("reject_with", "tcp-reset needs protocol tcp")
    p.fields["reject_with"] = dict(zip(N.FAMILIES, rw))


def check_log_prefix(ctx, value, p):
    _needs_target(ctx, p, "log_prefix", "LOG", implied=True)
    prefix = clean_text(ctx, "log_prefix", value)
    size = len(prefix.encode("utf-8"))
    if size > V.LOG_PREFIX_MAX:
        ctx.fail("log_prefix", "at most %d bytes, got %d" % (V.LOG_PREFIX_MAX, size))
    p.fields["log_prefix"] = prefix


def check_log_level(ctx, value, p):
    _needs_target(ctx, p, "log_level", "LOG", implied=True)
    if isinstance(value, str) and value.strip().lower() in V.LOG_LEVELS:
        value = V.LOG_LEVELS[value.strip().lower()]
    p.fields["log_level"] = whole_number(ctx, "log_level", value, 0, 7)
