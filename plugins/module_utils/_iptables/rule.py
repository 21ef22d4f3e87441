# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule: validate a rule mapping of the vocabulary, expand it by family and
address, render the canonical tokens ``iptables-save`` prints back. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import (
    render_tokens,
    tokenize,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.values import (
    flags_text,
    limit_period,
    limit_rate,
    normalise_proto_word,
    proto_token,
    protocol,
    tcp_flag_set,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules import naming as N
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import Ctx
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import (
    comment_text,
    split_comment,
)
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

RULE_KEYS = (
    "name",
    "table",
    "chain",
    "protocol",
    "source",
    "destination",
    "source_port",
    "destination_port",
    "destination_ports",
    "in_interface",
    "out_interface",
    "ctstate",
    "icmp_type",
    "src_range",
    "dst_range",
    "match_set",
    "match_set_flags",
    "limit",
    "limit_burst",
    "uid_owner",
    "gid_owner",
    "syn",
    "tcp_flags",
    "fragment",
    "comment",
    "jump",
    "goto",
    "reject_with",
    "log_prefix",
    "log_level",
    "ip_version",
    "match",
    "raw",
    "counters",  # read-only: rules_info reports them; ignored on input
)


_RULE_KEYSET = frozenset(RULE_KEYS)


# match modules a migrated ansible.builtin.iptables task may name in `match`;
# each is added by the keys that need it, so naming it changes nothing.
_IMPLIED_MATCHES = frozenset(
    "tcp udp sctp icmp icmp6 icmpv6 multiport conntrack state comment limit iprange set owner".split()
)


_CHAIN_RE = re.compile(r"^[^\s!-][^\s]*$")


_IFACE_RE = re.compile(r"^[A-Za-z0-9_.:@-]+\+?$")


class Rule:
    """One kernel rule of one family, in canonical form.

    ``tokens`` is the rule as iptables-save prints it after ``-A CHAIN``, split
    into words and unquoted; two rules are the same when their tokens are.
    ``name`` is set for rules that carry our name in their comment."""

    __slots__ = ("tokens", "name", "comment", "target", "goto", "counters", "_text")

    def __init__(self, tokens, name=None, comment=None, target=None, goto=False):
        self.tokens = tokens
        self.name = name
        self.comment = comment
        self.target = target
        self.goto = goto
        self.counters = None
        self._text = None

    @property
    def key(self):
        """Identity inside a chain: the name for our rules, the match otherwise."""
        if self.name is not None:
            return ("n", self.name)
        return ("s", self.tokens)

    @property
    def owned(self):
        return self.name is not None

    def text(self):
        """The rule as iptables-save prints it after -A CHAIN (rendered once)."""
        if self._text is None:
            self._text = render_tokens(self.tokens)
        return self._text

    def __eq__(self, other):
        return isinstance(other, Rule) and self.tokens == other.tokens

    def __hash__(self):
        return hash(self.tokens)

    def __repr__(self):
        return "Rule(%r)" % (self.text(),)


class _Parsed:
    """A validated rule, before it is split by family and address."""

    __slots__ = (
        "name",
        "comment",
        "families",
        "explicit",
        "sources",
        "dests",
        "proto",
        "fields",
    )


def parse_rule(data, families, ctx):
    """Validate one rule mapping. Returns a _Parsed, or None when the rule applies
    to no family this task manages."""
    if not isinstance(data, dict):
        ctx.fail(None, "a rule must be a mapping, got %r" % (data,))
    unknown = [k for k in data if k not in _RULE_KEYSET]
    if unknown:
        k = sorted(unknown)[0]
        hint = difflib.get_close_matches(k, RULE_KEYS, 1)
        ctx.fail(k, "unknown key%s" % ((" (did you mean '%s'?)" % hint[0]) if hint else ""))
    d = {k: v for k, v in data.items() if v is not None and v != []}
    p = _Parsed()
    p.fields = f = {}
    name = d.get("name")
    if name is not None:
        name = clean_text(ctx, "name", name)
        if not N.NAME_RE.match(name):
            ctx.fail("name", "%r must start with a letter or digit and hold no spaces" % name)
    p.name = name
    p.comment = clean_text(ctx, "comment", d["comment"]) if "comment" in d else None
    full = comment_text(name, p.comment)
    if full is not None and len(full.encode("utf-8")) > V.COMMENT_MAX - 4:
        ctx.fail("comment" if p.comment else "name", "name and comment exceed 250 bytes")
    for key in ("table", "chain"):
        if key in d and d[key] != getattr(ctx, key):
            ctx.fail(key, "%r differs from the %s the rule is listed under" % (d[key], key))

    allowed = set(families)
    explicit = None
    if "ip_version" in d:
        ipv = d["ip_version"]
        if ipv not in N.IP_VERSIONS:
            ctx.fail("ip_version", "must be one of ipv4, ipv6, both; got %r" % (ipv,))
        explicit = set(N.FAMILIES) if ipv == "both" else {ipv}
        allowed &= explicit
        if not allowed:
            return None
    p.explicit = explicit
    inferred = set(N.FAMILIES)

    if "raw" in d:
        others = [k for k in d if k not in ("raw", "ip_version", "table", "chain", "counters")]
        if others:
            ctx.fail("raw", "cannot be combined with '%s'" % sorted(others)[0])
        raw = clean_text(ctx, "raw", d["raw"])
        f["raw"] = tuple(tokenize(raw))
        if not f["raw"]:
            ctx.fail("raw", "must not be empty")
        p.sources = p.dests = [None]
        p.proto = None
        p.families = allowed
        p.comment = None
        return p

    for m in as_list(ctx, "match", d.get("match", [])) if "match" in d else ():
        if str(m) not in _IMPLIED_MATCHES:
            ctx.fail("match", "match module %r is not supported; use the rule keys" % (m,))

    # addresses
    p.sources = (
        [address(ctx, "source", a) for a in as_list(ctx, "source", d["source"])]
        if ("source" in d)
        else [None]
    )
    p.dests = (
        [address(ctx, "destination", a) for a in as_list(ctx, "destination", d["destination"])]
        if "destination" in d
        else [None]
    )
    for key in ("src_range", "dst_range"):
        if key in d:
            neg, fam, text = ip_range(ctx, key, d[key])
            inferred &= {fam}
            f[key] = (neg, text)

    # protocol and what hangs on it
    proto = None
    if "protocol" in d:
        neg, n = protocol(ctx, d["protocol"])
        if n == 0 and neg:
            ctx.fail("protocol", "'! all' matches nothing")
        if n == 58:
            inferred &= {"ipv6"}
        proto = (neg, n) if n != 0 else None
    if "icmp_type" in d:
        neg, t = split_neg(d["icmp_type"])
        t = str(t).strip()
        if proto is None:
            proto = (False, 1)
        if proto[1] not in (1, 58) or proto[0]:
            ctx.fail("icmp_type", "needs protocol icmp (or icmpv6), not %r" % (d["protocol"],))
        values = {}
        for fam in N.FAMILIES:
            table = V.ICMP_NAMES[fam]
            name_ = V.ICMP_EQUIV[fam].get(t, t)
            if name_ in table:
                values[fam] = table[name_]
        if re.match(r"^\d{1,3}(/\d{1,3})?$", t):
            nums = [int(x) for x in t.split("/")]
            if any(x > 255 for x in nums):
                ctx.fail("icmp_type", "%r is out of range 0-255" % t)
            canon = "/".join(str(x) for x in nums)
            if canon == "255" or canon.startswith("255/"):
                canon = "any"
            addr_fams = {a[1] for a in p.sources + p.dests if a is not None}
            if len(allowed & inferred & (addr_fams or set(N.FAMILIES))) != 1:
                ctx.fail(
                    "icmp_type",
                    "a numeric ICMP type means different things in IPv4 and IPv6: "
                    "set ip_version to ipv4 or ipv6, or use a name",
                )
            values = {fam: canon for fam in N.FAMILIES}
        elif not values:
            ctx.fail("icmp_type", "unknown ICMP type name %r" % t)
        inferred &= set(values)
        f["icmp_type"] = (neg, values)
    p.proto = proto
    pname = V.PROTO_CANON.get(proto[1]) if proto else None

    ports_ok = proto is not None and not proto[0] and pname in V.PORT_PROTOCOLS
    for key in ("source_port", "destination_port"):
        if key in d:
            if not ports_ok:
                ctx.fail(key, "needs protocol tcp, udp, sctp or dccp")
            if pname not in V.PORT_MATCH:
                ctx.fail(key, "is not supported for protocol %s" % pname)
            f[key] = port(ctx, key, d[key])
    if "destination_ports" in d:
        if not ports_ok:
            ctx.fail("destination_ports", "needs protocol tcp, udp, sctp, udplite or dccp")
        plist = as_list(ctx, "destination_ports", d["destination_ports"])
        if len(plist) > 15:
            ctx.fail("destination_ports", "the multiport match takes at most 15 ports")
        f["destination_ports"] = ",".join(
            port(ctx, "destination_ports", x, allow_neg=False)[1] for x in plist
        )
    tcp_only = pname == "tcp" and not proto[0]
    if "syn" in d:
        syn = d["syn"]
        if syn not in ("match", "negate", "ignore"):
            ctx.fail("syn", "must be match, negate or ignore; got %r" % (syn,))
        if syn != "ignore":
            if not tcp_only:
                ctx.fail("syn", "needs protocol tcp")
            f["tcp_flags"] = (syn == "negate", ",".join(V.SYN_MASK), "SYN")
    if "tcp_flags" in d:
        if "tcp_flags" in f:
            ctx.fail("tcp_flags", "cannot be combined with syn")
        if not tcp_only:
            ctx.fail("tcp_flags", "needs protocol tcp")
        tf = d["tcp_flags"]
        if not isinstance(tf, dict) or set(tf) - {"flags", "flags_set"}:
            ctx.fail("tcp_flags", "expected a mapping with 'flags' and 'flags_set' lists")
        mask = tcp_flag_set(ctx, tf.get("flags") or [])
        comp = tcp_flag_set(ctx, tf.get("flags_set") or [])
        if not mask:
            ctx.fail("tcp_flags", "'flags' must name at least one flag")
        f["tcp_flags"] = (False, flags_text(mask), flags_text(comp))

    if "ctstate" in d:
        states = set()
        for s in as_list(ctx, "ctstate", d["ctstate"]):
            s = str(s).strip().upper()
            if s not in V.CTSTATES:
                ctx.fail("ctstate", "unknown state %r (known: %s)" % (s, ", ".join(V.CTSTATES)))
            states.add(s)
        f["ctstate"] = ",".join(s for s in V.CTSTATES if s in states)
    if "match_set" in d:
        neg, setname = split_neg(clean_text(ctx, "match_set", d["match_set"]))
        if not re.match(r"^[A-Za-z0-9_.:-]{1,31}$", setname):
            ctx.fail("match_set", "%r is not a valid ipset name" % setname)
        flags = d.get("match_set_flags")
        if flags not in V.MATCH_SET_FLAGS:
            ctx.fail("match_set_flags", "must be one of %s" % ", ".join(V.MATCH_SET_FLAGS))
        f["match_set"] = (neg, setname, flags)
    elif "match_set_flags" in d:
        ctx.fail("match_set_flags", "needs match_set")
    if "limit" in d or "limit_burst" in d:
        rate = limit_rate(ctx, "limit", d.get("limit", V.LIMIT_DEFAULT))
        burst = whole_number(
            ctx, "limit_burst", d.get("limit_burst", V.LIMIT_BURST_DEFAULT), 1, 10000
        )
        if limit_period(rate) * burst >= 1 << 32:
            ctx.fail(
                "limit_burst" if "limit_burst" in d else "limit",
                "%s with a burst of %d overflows the kernel's limit match; use a faster rate "
                "or a smaller burst" % (rate, burst),
            )
        f["limit"] = (rate, burst)
    for key in ("uid_owner", "gid_owner"):
        if key in d:
            if ctx.chain in ("INPUT", "FORWARD", "PREROUTING"):
                ctx.fail(key, "the owner match works only in OUTPUT and POSTROUTING")
            neg, v = split_neg(d[key])
            f[key] = (neg, str(whole_number(ctx, key, v, 0, 4294967294)))
    if "fragment" in d and boolean(ctx, "fragment", d["fragment"]):
        inferred &= {"ipv4"}
        f["fragment"] = True
    for key, bad in (
        ("in_interface", ("OUTPUT", "POSTROUTING")),
        ("out_interface", ("INPUT", "PREROUTING")),
    ):
        if key in d:
            neg, v = split_neg(clean_text(ctx, key, d[key]))
            if not _IFACE_RE.match(v) or len(v) > V.IFNAME_MAX:
                ctx.fail(key, "%r is not a valid interface name (at most 15 characters)" % v)
            if ctx.chain in bad:
                ctx.fail(key, "cannot be used in chain %s" % ctx.chain)
            f[key] = (neg, v)

    # target
    jump = d.get("jump")
    goto = d.get("goto")
    if jump is not None and goto is not None:
        ctx.fail("goto", "jump and goto cannot both be set")
    if "reject_with" in d:
        if jump is None and goto is None:
            jump = "REJECT"
        if jump != "REJECT":
            ctx.fail("reject_with", "needs jump: REJECT")
        rw = V.REJECT_ALIASES.get(str(d["reject_with"]).strip())
        if rw is None:
            ctx.fail("reject_with", "unknown reject type %r" % (d["reject_with"],))
        for fam, value in zip(N.FAMILIES, rw):
            if value is None:
                inferred &= {"ipv6" if fam == "ipv4" else "ipv4"}
        if "tcp-reset" in rw and not tcp_only:
            ctx.fail("reject_with", "tcp-reset needs protocol tcp")
        f["reject_with"] = dict(zip(N.FAMILIES, rw))
    for key in ("log_prefix", "log_level"):
        if key in d and jump != "LOG":
            ctx.fail(key, "needs jump: LOG")
    if "log_prefix" in d:
        prefix = clean_text(ctx, "log_prefix", d["log_prefix"])
        if len(prefix.encode("utf-8")) > V.LOG_PREFIX_MAX:
            ctx.fail("log_prefix", "at most 29 bytes, got %d" % len(prefix.encode("utf-8")))
        f["log_prefix"] = prefix
    if "log_level" in d:
        lv = d["log_level"]
        if isinstance(lv, str) and lv.strip().lower() in V.LOG_LEVELS:
            lv = V.LOG_LEVELS[lv.strip().lower()]
        f["log_level"] = whole_number(ctx, "log_level", lv, 0, 7)
    for key, target in (("jump", jump), ("goto", goto)):
        if target is not None:
            target = clean_text(ctx, key, target)
            if not _CHAIN_RE.match(target) or len(target) > V.CHAIN_MAX:
                ctx.fail(key, "%r is not a valid target or chain name" % target)
            if key == "goto" and target in V.TARGETS:
                ctx.fail("goto", "goto needs a user chain, not %s" % target)
            if target in V.BUILTIN_CHAINS.get(ctx.table, ()):
                ctx.fail(key, "cannot jump to the built-in chain %s" % target)
            f[key] = target

    # families from addresses: every address of a family that is not managed is dropped
    fams = allowed & inferred
    if explicit is not None and not (explicit & inferred):
        ctx.fail("ip_version", "conflicts with the rule's addresses or ICMP/reject types")
    p.families = fams
    return p


def _neg(out, neg):
    if neg:
        out.append("!")


def tokens_for(p, family, src, dst, name):
    """Render one expansion of a parsed rule for one family."""
    f = p.fields
    if "raw" in f:
        return _raw_rule(f["raw"])
    out = []
    for flag, addr in (("-s", src), ("-d", dst)):
        if addr is not None and addr[2] is not None:
            _neg(out, addr[0])
            out += [flag, addr[2]]
    for flag, key in (("-i", "in_interface"), ("-o", "out_interface")):
        if key in f:
            _neg(out, f[key][0])
            out += [flag, f[key][1]]
    proto = p.proto
    pname = None
    if proto is not None:
        pname = proto_token(proto[1], family)
        _neg(out, proto[0])
        out += ["-p", pname]
    if "fragment" in f:
        out.append("-f")
    if pname in V.PORT_MATCH and (
        "source_port" in f or "destination_port" in f or "tcp_flags" in f
    ):
        out += ["-m", V.PORT_MATCH[pname]]
        for flag, key in (("--sport", "source_port"), ("--dport", "destination_port")):
            if key in f and f[key][1] != "0:65535":
                _neg(out, f[key][0])
                out += [flag, f[key][1]]
        if "tcp_flags" in f:
            neg, mask, comp = f["tcp_flags"]
            _neg(out, neg)
            out += ["--tcp-flags", mask, comp]
    if "icmp_type" in f:
        neg, values = f["icmp_type"]
        out += ["-m", "icmp"] if family == "ipv4" else ["-m", "icmp6"]
        _neg(out, neg)
        out += ["--icmp-type" if family == "ipv4" else "--icmpv6-type", values[family]]
    if "destination_ports" in f:
        out += ["-m", "multiport", "--dports", f["destination_ports"]]
    if "src_range" in f or "dst_range" in f:
        out += ["-m", "iprange"]
        for flag, key in (("--src-range", "src_range"), ("--dst-range", "dst_range")):
            if key in f:
                _neg(out, f[key][0])
                out += [flag, f[key][1]]
    if "match_set" in f:
        neg, setname, flags = f["match_set"]
        out += ["-m", "set"]
        _neg(out, neg)
        out += ["--match-set", setname, flags]
    if "ctstate" in f:
        out += ["-m", "conntrack", "--ctstate", f["ctstate"]]
    if "limit" in f:
        rate, burst = f["limit"]
        out += ["-m", "limit", "--limit", rate]
        if burst != V.LIMIT_BURST_DEFAULT:
            out += ["--limit-burst", str(burst)]
    if "uid_owner" in f or "gid_owner" in f:
        out += ["-m", "owner"]
        for flag, key in (("--uid-owner", "uid_owner"), ("--gid-owner", "gid_owner")):
            if key in f:
                _neg(out, f[key][0])
                out += [flag, f[key][1]]
    comment = comment_text(name, p.comment)
    if comment is not None:
        out += ["-m", "comment", "--comment", comment]
    if "jump" in f:
        out += ["-j", f["jump"]]
        if f["jump"] == "REJECT":
            rw = f.get("reject_with", {}).get(family) or V.REJECT_DEFAULT[family]
            out += ["--reject-with", rw]
        elif f["jump"] == "LOG":
            if "log_prefix" in f:
                out += ["--log-prefix", f["log_prefix"]]
            if f.get("log_level", V.LOG_LEVEL_DEFAULT) != V.LOG_LEVEL_DEFAULT:
                out += ["--log-level", str(f["log_level"])]
    elif "goto" in f:
        out += ["-g", f["goto"]]
    return tuple(out)


def _raw_rule(tokens):
    out = list(tokens)
    if "-p" not in out:
        return tuple(out)
    for i in range(len(out) - 1):
        if out[i] == "-p":
            out[i + 1] = normalise_proto_word(out[i + 1])
    return tuple(out)


def rule_from_tokens(tokens):
    """Build a Rule from canonical tokens, reading its comment and target (the
    last --comment and the last -j/-g, as iptables itself keeps)."""
    comment = target = None
    goto = False
    last = len(tokens) - 2
    if "--comment" in tokens:
        for i in range(last, -1, -1):
            if tokens[i] == "--comment":
                comment = tokens[i + 1]
                break
    for i in range(last, -1, -1):
        t = tokens[i]
        if t in _TARGET_FLAGS:
            target = tokens[i + 1]
            goto = t in ("-g", "--goto")
            break
    name, _text = split_comment(comment)
    return Rule(tokens, name, comment, target, goto)


_TARGET_FLAGS = frozenset(("-j", "-g", "--jump", "--goto"))


def compile_rule(data, families, table, chain, index):
    """Validate one rule mapping and expand it into (family, Rule) pairs, in order.

    A list of sources or destinations expands to one kernel rule per address
    (pairs of different families are skipped); a named rule that expands to
    several kernel rules gets the suffix '#1', '#2'... on its name."""
    ctx = Ctx(table, chain, None, data, index)
    p = parse_rule(data, families, ctx)
    if p is None or not p.families:
        return []
    combos = []
    for s in p.sources:
        for dd in p.dests:
            fams = set(p.families)
            for a in (s, dd):
                if a is not None:
                    fams &= {a[1]}
            if fams:
                combos.append((s, dd, fams))
    if not combos:
        if (
            p.explicit is None
            and len(p.families) == 1
            and (p.sources != [None] or p.dests != [None])
        ):
            return []  # the addresses are all of a family this task does not manage
        addr_fams = {a[1] for a in p.sources + p.dests if a is not None}
        if p.explicit is not None and not (addr_fams & p.explicit):
            ctx.fail("ip_version", "conflicts with the address family of source/destination")
        ctx.fail(
            "destination" if p.dests != [None] else "source",
            "no source/destination pair of one address family",
        )
    out = []
    many = len(combos) > 1
    for i, (s, dd, fams) in enumerate(combos, 1):
        name = p.name
        if name is not None and many:
            name = "%s#%d" % (name, i)
        for fam in N.FAMILIES:
            if fam in fams:
                out.append((fam, rule_from_tokens(tokens_for(p, fam, s, dd, name))))
    return out
