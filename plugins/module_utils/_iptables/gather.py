# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Saved rules back into the ``config`` format of the modules: each kernel rule as
a rule mapping that compiles back to exactly the same tokens (else ``raw``), and
IPv4 and IPv6 merged where they agree. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import compile_rule
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import render_tokens
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules import naming as N
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import split_comment


def _neg(value, neg):
    return "!" + str(value) if neg else value


def _port_value(text, neg):
    if not neg and text.isdigit():
        return int(text)
    return _neg(text, neg)


def structured(tokens, family):
    """Read tokens into a rule mapping of our vocabulary, or None when the rule
    uses anything outside it."""
    d = {}
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
            if t in ("-s", "-d", "-i", "-o"):
                key = {"-s": "source", "-d": "destination", "-i": "in_interface"}.get(
                    t, "out_interface"
                )
                d[key] = _neg(tokens[i + 1], neg)
                i += 2
            elif t == "-p":
                proto = tokens[i + 1]
                d["protocol"] = _neg("icmp" if proto == "ipv6-icmp" else proto, neg)
                i += 2
            elif t == "-f":
                if neg:
                    return None
                d["fragment"] = True
                i += 1
            elif t == "-m":
                i = _read_match(tokens, i + 2, tokens[i + 1], d, family)
                if i is None:
                    return None
            elif t in ("-j", "-g"):
                if neg:
                    return None
                d["jump" if t == "-j" else "goto"] = tokens[i + 1]
                i += 2
                while i < n:
                    opt = tokens[i]
                    if opt == "--reject-with":
                        if tokens[i + 1] != V.REJECT_DEFAULT[family]:
                            d["reject_with"] = tokens[i + 1]
                    elif opt == "--log-prefix":
                        d["log_prefix"] = tokens[i + 1]
                    elif opt == "--log-level":
                        d["log_level"] = int(tokens[i + 1])
                    else:
                        return None
                    i += 2
            else:
                return None
            neg = False
    except (IndexError, ValueError):
        return None
    return d


def _read_match(tokens, i, module, d, family):
    n = len(tokens)
    neg = False
    while i < n and (tokens[i].startswith("--") or tokens[i] == "!"):
        opt = tokens[i]
        if opt == "!":
            neg = True
            i += 1
            continue
        arg = tokens[i + 1]
        if module in V.PORT_MATCH and opt in ("--sport", "--dport"):
            d["source_port" if opt == "--sport" else "destination_port"] = _port_value(arg, neg)
        elif module == "tcp" and opt == "--tcp-flags":
            comp = tokens[i + 2]
            i += 1
            if arg == ",".join(V.SYN_MASK) and comp == "SYN":
                d["syn"] = "negate" if neg else "match"
            elif neg:
                return None
            else:
                d["tcp_flags"] = {
                    "flags": arg.split(","),
                    "flags_set": [] if comp == "NONE" else comp.split(","),
                }
        elif (module, opt) in (("icmp", "--icmp-type"), ("icmp6", "--icmpv6-type")):
            d["icmp_type"] = _neg(V.ICMP_REVERSE[family].get(arg, arg), neg)
        elif module == "multiport" and opt == "--dports" and not neg:
            d["destination_ports"] = [_port_value(x, False) for x in arg.split(",")]
        elif module == "iprange" and opt in ("--src-range", "--dst-range"):
            d["src_range" if opt == "--src-range" else "dst_range"] = _neg(arg, neg)
        elif module == "set" and opt == "--match-set":
            d["match_set"] = _neg(arg, neg)
            d["match_set_flags"] = tokens[i + 2]
            i += 1
        elif module == "conntrack" and opt == "--ctstate" and not neg:
            d["ctstate"] = arg.split(",")
        elif module == "limit" and opt == "--limit" and not neg:
            d["limit"] = arg
        elif module == "limit" and opt == "--limit-burst" and not neg:
            d["limit_burst"] = int(arg)
        elif module == "owner" and opt in ("--uid-owner", "--gid-owner"):
            d["uid_owner" if opt == "--uid-owner" else "gid_owner"] = _neg(arg, neg)
        elif module == "comment" and opt == "--comment" and not neg:
            name, comment = split_comment(arg)
            if name is not None:
                d["name"] = name
            if comment is not None:
                d["comment"] = comment
        else:
            return None
        neg = False
        i += 2
    if module == "limit" and "limit" not in d:
        d["limit"] = V.LIMIT_DEFAULT
    return i


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
    if icmp[:1].isdigit():
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
