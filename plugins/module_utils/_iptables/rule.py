# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule: a rule mapping of the vocabulary validated, expanded by family and
address, and rendered to the canonical tokens ``iptables-save`` prints back,
all driven by the table of keys (keys.py). Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import checks as C
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import keys as K
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.checks import Parsed
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.codec import Expansion
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import (
    render_tokens,
    tokenize,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.values import (
    normalise_proto_word,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules import naming as N
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import Ctx
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import (
    comment_text,
    split_comment,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.values import clean_text

RULE_KEYS = K.NAMES
_RULE_KEYSET = frozenset(RULE_KEYS)
# match modules a migrated ansible.builtin.iptables task may name in `match`;
# each is added by the keys that need it, so naming it changes nothing.
_IMPLIED_MATCHES = frozenset(
    "tcp udp sctp icmp icmp6 icmpv6 multiport conntrack state comment limit iprange set owner".split()
)
_RAW_FAMILY_HINTS = (("-m", "icmp", "ipv4"), ("-m", "icmp6", "ipv6"))


class Rule:
    """One kernel rule of one family, in canonical form.

    ``tokens`` is the rule as iptables-save prints it after ``-A CHAIN``, split
    into words and unquoted; two rules are the same when their tokens are.
    ``name`` is set for rules that carry our name in their comment."""

    __slots__ = ("tokens", "name", "comment", "target", "goto", "counters", "_text", "_shape")

    def __init__(self, tokens, name=None, comment=None, target=None, goto=False):
        self.tokens = tokens
        self.name = name
        self.comment = comment
        self.target = target
        self.goto = goto
        self.counters = None
        self._text = None
        self._shape = None

    @property
    def shape(self):
        """The rule with its match modules in a fixed order: rules written with
        the same matches in another order (ansible.builtin.iptables orders them
        differently) have the same shape."""
        if self._shape is None:
            self._shape = shape_of(self.tokens)
        return self._shape

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


def set_names(tokens):
    """The ipset names a rule's tokens match (--match-set NAME FLAGS)."""
    return [tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t == "--match-set"]


def shape_of(tokens):
    """(base options, sorted match chunks, target part) of saved tokens: each
    chunk is one ``-m MODULE`` with its options."""
    base, chunks, target = [], [], []
    part = base
    for i, t in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        if part is not target and prev != "--comment":
            if t == "-m":
                chunks.append([])
                part = chunks[-1]
            elif t in _TARGET_FLAGS:
                part = target
        part.append(t)
    units = [u for c in chunks for u in _units(c)]
    return tuple(base), tuple(sorted(units)), tuple(target)


# match modules whose options are independent tests: one -m owner with two
# options is the same rule as two -m owner with one each (ansible.builtin.iptables
# writes one match per key)
_SPLIT_MODULES = frozenset(("owner",))


def _units(chunk):
    """One match chunk as units that compare regardless of how they were grouped."""
    if len(chunk) < 3 or chunk[1] not in _SPLIT_MODULES:
        return [tuple(chunk)]
    head, out = tuple(chunk[:2]), []
    for t in chunk[2:]:
        after_bang = bool(out) and out[-1][-1] == "!"
        starts = t == "!" or (t.startswith("--") and not after_bang)
        if starts or not out:
            out.append([t])
        else:
            out[-1].append(t)
    return [head + tuple(u) for u in out]


def _prologue(data, families, ctx):
    """The rule-level keys: mapping, unknown keys, name, table/chain, ip_version.
    Returns the cleaned mapping and a Parsed, or None when ip_version leaves no
    family this task manages."""
    if not isinstance(data, dict):
        ctx.fail(None, "a rule must be a mapping, got %r" % (data,))
    unknown = [k for k in data if k not in _RULE_KEYSET]
    if unknown:
        k = sorted(unknown, key=str)[0]
        hint = difflib.get_close_matches(str(k), RULE_KEYS, 1)
        ctx.fail(k, "unknown key%s" % ((" (did you mean '%s'?)" % hint[0]) if hint else ""))
    d = {k: v for k, v in data.items() if v is not None}
    if d.get("match") == []:
        del d["match"]
    p = Parsed(d, families)
    if "name" in d:
        p.name = clean_text(ctx, "name", d["name"])
        if not N.NAME_RE.match(p.name):
            ctx.fail("name", "%r must start with a letter or digit and hold no spaces" % p.name)
    for key in ("table", "chain"):
        if key in d and d[key] != getattr(ctx, key):
            ctx.fail(key, "%r differs from the %s the rule is listed under" % (d[key], key))
    if "ip_version" in d:
        ipv = d["ip_version"]
        if not isinstance(ipv, str) or ipv not in N.IP_VERSIONS:
            ctx.fail("ip_version", "must be one of ipv4, ipv6, both; got %r" % (ipv,))
        p.explicit = set(N.FAMILIES) if ipv == "both" else {ipv}
        p.allowed &= p.explicit
        if not p.allowed:
            return d, None
    return d, p


def _raw(d, p, ctx):
    others = [k for k in d if k not in ("raw", "ip_version", "table", "chain", "counters")]
    if others:
        ctx.fail("raw", "cannot be combined with '%s'" % sorted(others)[0])
    tokens = tuple(tokenize(clean_text(ctx, "raw", d["raw"])))
    if not tokens:
        ctx.fail("raw", "must not be empty")
    p.fields["raw"] = tokens
    for i, word in enumerate(tokens[:-1]):
        nxt = tokens[i + 1]
        if word in ("-s", "-d", "--source", "--destination"):
            p.narrow("raw", {"ipv6" if ":" in nxt else "ipv4"})
        elif word == "--reject-with":
            p.narrow(
                "raw",
                {"ipv6" if nxt.startswith("icmp6") else "ipv4"} if "icmp" in nxt else N.FAMILIES,
            )
        for flag, module, fam in _RAW_FAMILY_HINTS:
            if (word, nxt) == (flag, module):
                p.narrow("raw", {fam})
    if not p.inferred:
        ctx.fail("raw", "mixes IPv4 and IPv6 addresses or matches")
    if p.explicit is not None and not p.explicit & p.inferred:
        ctx.fail(
            "raw",
            "holds %s addresses or matches, but ip_version is %s"
            % ("/".join(sorted(p.inferred)), d["ip_version"]),
        )
    return p


def parse_rule(data, families, ctx):
    """Validate one rule mapping. Returns a Parsed, or None when the rule applies
    to no family this task manages."""
    d, p = _prologue(data, families, ctx)
    if p is None:
        return None
    if "raw" in d:
        _raw(d, p, ctx)
        p.families = p.allowed & p.inferred
        return p
    if "match" in d:
        matches = d["match"] if isinstance(d["match"], list) else [d["match"]]
        p.matches = tuple(str(m) for m in matches)
        for m in p.matches:
            if m not in _IMPLIED_MATCHES:
                ctx.fail("match", "match module %r is not supported; use the rule keys" % (m,))
    for key in K.CHECKED:
        if key.name in d:
            key.check(ctx, d[key.name], p)
    _named_matches(p, ctx)
    full = comment_text(p.name, p.comment)
    if full is not None and len(full.encode("utf-8")) > 250:
        ctx.fail("comment" if p.comment else "name", "name and comment exceed 250 bytes")
    if p.explicit is not None and not (p.explicit & p.inferred):
        ctx.fail("ip_version", "conflicts with the rule's addresses or ICMP/reject types")
    p.families = p.allowed & p.inferred
    return p


def _named_matches(p, ctx):
    """The match modules named in `match` that the kernel keeps even without
    options, as ansible.builtin.iptables writes them: the protocol's own match
    (-p tcp -m tcp) and limit (its defaults, 3/hour with a burst of 5)."""
    if not p.matches:
        return
    if p.proto is not None and not p.proto[0] and V.PORT_MATCH.get(p.proto_name) in p.matches:
        p.fields["port_match"] = True
    if "limit" in p.matches and "limit" not in p.fields:
        C.check_limit(ctx, None, p)


def tokens_for(p, x):
    """Render one expansion `x` of a parsed rule: the rows of the key table in
    canonical order, each match group behind its -m module."""
    if "raw" in p.fields:
        return _raw_rule(p.fields["raw"])
    out = []
    for group, rows in K.RENDERED:
        words = []
        for row in rows:
            words += row.render(p, x)
        if group in (K.BASE, K.TARGET):
            out += words
        elif words or any(row.name in p.fields for row in rows) or _kept(group, p):
            out += ["-m", K.module_name(group, p, x.family)] + words
    return tuple(out)


def _kept(group, p):
    return group == K.PORTS and p.fields.get("port_match", False)


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


def _pairs(p, families):
    """(source, destination, families) of each address pair the rule expands to."""
    out = []
    for s in p.sources:
        for dd in p.dests:
            fams = set(families)
            for a in (s, dd):
                if a is not None:
                    fams &= {a[1]}
            if fams:
                out.append((s, dd, fams))
    return out


def _contradiction(p, ctx):
    """Fail, naming the key, when the rule's own keys leave it no family."""
    addr_fams = {a[1] for a in p.sources + p.dests if a is not None}
    if p.explicit is not None and addr_fams and not (addr_fams & p.explicit):
        ctx.fail("ip_version", "conflicts with the address family of source/destination")
    for key, fams in p.narrowed_by:
        if addr_fams and not fams & addr_fams:
            ctx.fail(
                key,
                "applies only to %s, but the rule's addresses are %s"
                % ("/".join(sorted(fams)), "/".join(sorted(addr_fams))),
            )
    if not p.inferred:
        key, fams = p.narrowed_by[-1]
        ctx.fail(
            key, "applies only to %s, which the rule's other keys exclude" % "/".join(sorted(fams))
        )
    ctx.fail(
        "destination" if p.dests != [None] else "source",
        "no source/destination pair of one address family",
    )


def compile_rule(data, families, table, chain, index):
    """Validate one rule mapping and expand it into (family, Rule) pairs, in order.

    A list of sources or destinations expands to one kernel rule per address
    (pairs of different families are skipped); a named rule that expands to
    several kernel rules gets the suffix '#1', '#2'... on its name. A rule
    whose own keys leave it no family at all is an error; one that applies only
    to families this task does not manage expands to nothing."""
    ctx = Ctx(table, chain, None, data, index)
    p = parse_rule(data, families, ctx)
    if p is None:
        return []
    everywhere = (p.explicit or set(N.FAMILIES)) & p.inferred
    if not _pairs(p, everywhere):
        _contradiction(p, ctx)
    combos = _pairs(p, p.families)
    if p.numeric_icmp and len({f for _s, _d, fams in combos for f in fams}) > 1:
        ctx.fail(
            "icmp_type",
            "a numeric ICMP type means different things in IPv4 and IPv6: "
            "set ip_version to ipv4 or ipv6, or use a name",
        )
    out = []
    many = len(combos) > 1
    for i, (s, dd, fams) in enumerate(combos, 1):
        name = p.name
        if name is not None and many:
            name = "%s#%d" % (name, i)
        for fam in N.FAMILIES:
            if fam in fams:
                x = Expansion(fam, s, dd, name)
                out.append((fam, rule_from_tokens(tokens_for(p, x))))
    return out
