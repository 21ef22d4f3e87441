# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Saved rules back into the ``config`` format of the modules: each kernel rule as
a rule mapping that compiles back to exactly the same tokens (else ``raw``), and
IPv4 and IPv6 merged where they agree. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import keys as K
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import (
    compile_rule,
    shape_of,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import render_tokens
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules import naming as N
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError


def structured(tokens, family):
    """Read saved tokens into a rule mapping of the vocabulary through the key
    table's readers, or None when the rule uses anything outside it."""
    d = {}
    group = K.BASE
    modules = []
    bare = []  # modules saved without an option
    n = len(tokens)
    i = 0
    neg = False
    try:
        while i < n:
            t = tokens[i]
            if t == "!":
                neg = True
                i += 1
                continue
            if t == "-m" and group != K.TARGET and not neg:
                modules.append(tokens[i + 1])
                group = K.group_of_module(tokens[i + 1])
                if i + 2 >= n or tokens[i + 2] in ("-m", "-j", "-g"):
                    bare.append(tokens[i + 1])
                i += 2
                continue
            if t in ("-j", "-g"):
                group = where = K.TARGET
            elif t.startswith("--"):
                where = group
            elif group == K.TARGET:
                return None  # only the target's options follow the target
            else:
                where = K.BASE
            row = K.READERS.get((where, t))
            if row is None:
                return None
            args = tokens[i + 1 : i + 1 + row.nargs]
            if len(args) != row.nargs or not row.read(args, neg, family, d):
                return None
            i += 1 + row.nargs
            neg = False
    except (IndexError, ValueError):
        return None
    for module in modules:
        default = K.MODULE_DEFAULTS.get(module)
        if default is not None and default[0] not in d:
            d[default[0]] = default[1]
    named = [m for m in bare if m in K.GROUP_MODULES[K.PORTS]]
    if named:  # -p tcp -m tcp: the protocol's match named, as in ansible.builtin.iptables
        d["match"] = d.get("match", []) + named
    return d


def readable_part(tokens, family):
    """For a rule outside the vocabulary: the keys of the parts the key table
    can read (the base options and each known `-m` match read on its own).
    All of a rule's matches must match, so those keys alone can still tell
    that a packet does not match. -> a mapping (possibly empty)."""
    base, chunks, _target = shape_of(tokens)
    out = {}
    for part in [base] + [list(c) for c in chunks]:
        d = structured(tuple(part), family) if part else None
        if d:
            out.update(d)
    return out


def rule_to_config(rule, family, table, chain, verify=True):
    """A kernel rule as a rule mapping that compiles back to exactly the same
    tokens; rules outside the vocabulary come back as {'raw': text}.

    verify=False skips the compile-back check (for the informational
    before/after of a change, where speed matters more)."""
    d = structured(rule.tokens, family)
    if d is not None and not verify:
        return d
    if d is not None:
        try:
            got = compile_rule(d, (family,), table, chain, 0)
        except RuleError:
            got = None
        if got and len(got) == 1 and got[0][1].tokens == rule.tokens:
            return d
    return {"raw": render_tokens(rule.tokens)}


def _image(d, family, table, chain):
    """Tokens that rule mapping `d` gives in `family`, or None. A numeric ICMP
    type means different things per family: such rules are never merged."""
    icmp = str(d.get("icmp_type", "")).lstrip("!")
    if icmp[:1] in "0123456789" and icmp[:1]:
        return None
    try:
        got = compile_rule(d, (family,), table, chain, 0)
    except RuleError:
        return None
    if len(got) != 1:
        return None
    return got[0][1].tokens


def _chain_rules(chain4, chain6, table, verify=True):
    """Merge one chain's IPv4 and IPv6 rules into one list: a rule that means the
    same in both families appears once without ip_version."""
    name = (chain4 or chain6).name
    r4 = [
        (rule_to_config(r, "ipv4", table, name, verify), r)
        for r in (chain4.rules if chain4 else [])
    ]
    r6 = [
        (rule_to_config(r, "ipv6", table, name, verify), r)
        for r in (chain6.rules if chain6 else [])
    ]
    if verify:
        a = [_image(d, "ipv6", table, name) for d, _unused in r4]
        b = [r.tokens for _unused, r in r6]
    else:  # cheaper: same mapping in both families
        a = [repr(sorted(d.items())) for d, _unused in r4]
        b = [repr(sorted(d.items())) for d, _unused in r6]
    out = []
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out.extend(dict(d) for d, _unused in r4[i1:i2])
            continue
        out.extend(dict(d, ip_version="ipv4") for d, _unused in r4[i1:i2])
        out.extend(dict(d, ip_version="ipv6") for d, _unused in r6[j1:j2])
    return out


def _chain_entry(chain, rules):
    entry = {"name": chain.name}
    if chain.policy is not None:
        entry["policy"] = chain.policy
    entry["rules"] = rules
    return entry


def tables_to_config(states, tables=None, chains=None, verify=True):
    """{family: {table: Table}} -> config list. With both families present, a
    table whose chains and policies agree is listed once; otherwise once per
    family with ip_version."""
    fams = [f for f in N.FAMILIES if f in states]
    names = []
    for fam in fams:
        for t in states[fam]:
            if t not in names and (tables is None or t in tables):
                names.append(t)
    config = []
    for tname in names:
        per = {fam: states[fam].get(tname) for fam in fams}
        present = [fam for fam in fams if per[fam] is not None]

        def wanted(cname):
            return chains is None or cname in chains

        if len(fams) == 1:
            t = per[fams[0]]
            entry = {"table": tname, "chains": []}
            for c in t.chains.values():
                if wanted(c.name):
                    rules = [rule_to_config(r, fams[0], tname, c.name, verify) for r in c.rules]
                    entry["chains"].append(_chain_entry(c, rules))
            config.append(entry)
            continue
        t4, t6 = per.get("ipv4"), per.get("ipv6")
        same = (
            len(present) == 2
            and list(t4.chains) == list(t6.chains)
            and all(t4.chains[c].policy == t6.chains[c].policy for c in t4.chains)
        )
        if same:
            entry = {"table": tname, "chains": []}
            for cname, c4 in t4.chains.items():
                if wanted(cname):
                    rules = _chain_rules(c4, t6.chains[cname], tname, verify)
                    entry["chains"].append(_chain_entry(c4, rules))
            config.append(entry)
            continue
        for fam in present:
            t = per[fam]
            entry = {"table": tname, "ip_version": fam, "chains": []}
            for c in t.chains.values():
                if wanted(c.name):
                    rules = [rule_to_config(r, fam, tname, c.name, verify) for r in c.rules]
                    entry["chains"].append(_chain_entry(c, rules))
            config.append(entry)
    return config
