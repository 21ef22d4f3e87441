# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning: from the host's tables and a desired ``config``, the smallest
``iptables-restore --noflush`` transaction per table and family. Pure.

Never a table flush, never a ``:CHAIN`` declaration of an existing chain (that
would flush it): only -N, -A, -I, -R, -D, -P, and -F/-X of chains being deleted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.hostfw.netfilter.plugins.module_utils import _vocab as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._model import (
    compile_rule,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._state import (
    Chain,
    Table,
    render_table,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._values import RuleError

_TABLE_KEYS = frozenset(("table", "chains", "ip_version"))
_CHAIN_KEYS = frozenset(("name", "policy", "rules"))


class DesiredChain:
    __slots__ = ("name", "policy", "rules", "builtin")

    def __init__(self, name, policy, rules, builtin):
        self.name = name
        self.policy = policy
        self.rules = rules  # list of Rule, or None when the entry lists no rules
        self.builtin = builtin


def families_of(ip_version):
    return V.FAMILIES if ip_version == "both" else (ip_version,)


def _fail(where, key, msg):
    raise RuleError("%s: key '%s': %s" % (where, key, msg))


def check_chain_name(where, name):
    """A chain name the kernel accepts (RuleError naming `where` and the key)."""
    if not isinstance(name, str) or not name:
        _fail(where, "name", "a chain needs a name")
    if len(name) > V.CHAIN_MAX:
        _fail(
            where,
            "name",
            "chain name %r is %d characters; the kernel allows at most %d"
            % (name, len(name), V.CHAIN_MAX),
        )
    if not re.match(r"^[^\s!-][^\s]*$", name):
        _fail(where, "name", "%r is not a valid chain name" % name)
    if name in V.TARGETS:
        _fail(where, "name", "%r is the name of a target" % name)


def compile_config(config, families):
    """Validate ``config`` and compile it to {(family, table): {chain: DesiredChain}}.

    Every error is raised here, before the host is read or touched."""
    if not isinstance(config, list):
        raise RuleError("config: must be a list of tables")
    desired = {}
    for ti, tentry in enumerate(config, 1):
        where = "config table #%d" % ti
        if not isinstance(tentry, dict):
            raise RuleError("%s: must be a mapping" % where)
        unknown = sorted(set(tentry) - _TABLE_KEYS)
        if unknown:
            _fail(where, unknown[0], "unknown key")
        tname = tentry.get("table", "filter")
        if tname not in V.BUILTIN_CHAINS:
            _fail(
                where,
                "table",
                "unknown table %r (known: %s)" % (tname, ", ".join(V.BUILTIN_CHAINS)),
            )
        where = "table %s" % tname
        fams = families
        if tentry.get("ip_version") is not None:
            ipv = tentry["ip_version"]
            if ipv not in V.IP_VERSIONS:
                _fail(where, "ip_version", "must be one of ipv4, ipv6, both")
            fams = [f for f in families if f in families_of(ipv)]
        chains = tentry.get("chains") or []
        if not isinstance(chains, list):
            _fail(where, "chains", "must be a list of chains")
        for fam in fams:
            if (fam, tname) in desired:
                _fail(where, "table", "listed twice for %s" % fam)
            desired[(fam, tname)] = {}
        for ci, centry in enumerate(chains, 1):
            cwhere = "%s, chain #%d" % (where, ci)
            if not isinstance(centry, dict):
                raise RuleError("%s: must be a mapping" % cwhere)
            unknown = sorted(set(centry) - _CHAIN_KEYS)
            if unknown:
                _fail(cwhere, unknown[0], "unknown key")
            cname = centry.get("name")
            check_chain_name(cwhere, cname)
            cwhere = "%s, chain %s" % (where, cname)
            builtin = cname in V.BUILTIN_CHAINS[tname]
            policy = centry.get("policy")
            if policy is not None:
                if not builtin:
                    _fail(
                        cwhere,
                        "policy",
                        "only built-in chains have a policy; %s is a user chain" % cname,
                    )
                policy = str(policy).upper()
                if policy not in V.POLICIES:
                    _fail(cwhere, "policy", "must be ACCEPT or DROP, got %r" % centry["policy"])
            rules_in = centry.get("rules")
            if rules_in is not None and not isinstance(rules_in, list):
                _fail(cwhere, "rules", "must be a list of rules")
            per_fam = {fam: ([] if rules_in is not None else None) for fam in fams}
            for ri, rdata in enumerate(rules_in or [], 1):
                for fam, rule in compile_rule(rdata, fams, tname, cname, ri):
                    per_fam[fam].append(rule)
            for fam in fams:
                chains_d = desired[(fam, tname)]
                if cname in chains_d:
                    _fail(cwhere, "name", "chain listed twice")
                rules = per_fam[fam]
                if rules:
                    seen = set()
                    for r in rules:
                        if r.name is not None:
                            if r.name in seen:
                                _fail(
                                    cwhere,
                                    "name",
                                    "rule name %r is used twice in the chain" % r.name,
                                )
                            seen.add(r.name)
                chains_d[cname] = DesiredChain(cname, policy, rules, builtin)
    return desired


class Ignore:
    """The `ignore` regexes: chain names, rule comments, jump/goto targets."""

    def __init__(self, patterns):
        self.regexes = []
        for p in patterns or ():
            try:
                self.regexes.append(re.compile(p))
            except re.error as e:
                raise RuleError("ignore: %r is not a valid regular expression: %s" % (p, e)) from e

    def chain(self, name):
        return any(r.search(name) for r in self.regexes)

    def rule(self, rule):
        if not self.regexes:
            return False
        values = [rule.comment, rule.target]
        toks = rule.tokens
        for i, t in enumerate(toks[:-1]):
            if t in ("-i", "-o"):  # Docker's FORWARD rules name only docker0 / br-*
                values.append(toks[i + 1])
        return any(
            value is not None and any(r.search(value) for r in self.regexes) for value in values
        )


def _protected(table, managed, ignore):
    """User chains never touched: those `ignore` matches and, transitively, those
    that ignored rules or protected chains jump to (unless listed in config)."""
    seeds = [n for n in table.chains if ignore.chain(n)]
    seeds += [r.target for ch in table.chains.values() for r in ch.rules if ignore.rule(r)]
    protected = set()
    while seeds:
        n = seeds.pop()
        ch = table.chains.get(n)
        if n in protected or n in managed or ch is None or ch.builtin:
            continue
        protected.add(n)
        seeds.extend(r.target for r in ch.rules if r.target is not None)
    return protected


class TablePlan:
    """The transaction for one table of one family and the state it leads to."""

    def __init__(self, family, before, after, lines, warnings):
        self.family = family
        self.before = before
        self.after = after
        self.lines = lines
        self.warnings = warnings

    @property
    def changed(self):
        return bool(self.lines)

    def restore_text(self):
        return "*%s\n%s\nCOMMIT\n" % (self.before.name, "\n".join(self.lines))


def _edit(chain, cur, target, lines):
    """Append the -D/-I/-A/-R lines that turn list `cur` into list `target`."""
    if [r.tokens for r in cur] == [r.tokens for r in target]:
        return
    sm = difflib.SequenceMatcher(
        None, [r.key for r in cur], [r.key for r in target], autojunk=False
    )
    pos = 0
    length = len(cur)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                new = target[j1 + k]
                if cur[i1 + k].tokens != new.tokens:
                    lines.append("-R %s %d %s" % (chain, pos + 1, new.text()))
                pos += 1
            continue
        for _i in range(i1, i2):
            lines.append("-D %s %d" % (chain, pos + 1))
            length -= 1
        for j in range(j1, j2):
            spec = target[j].text()
            if pos == length:
                lines.append("-A %s %s" % (chain, spec))
            else:
                lines.append("-I %s %d %s" % (chain, pos + 1, spec))
            pos += 1
            length += 1


def _merged_target(cur, wanted):
    """merged: every wanted rule present; a missing one goes right after the
    wanted rule listed before it (or before the first present one, or at the
    end). Nothing is removed and no existing rule moves."""
    index = {}
    for r in cur:
        index.setdefault(r.key, r)
    start, after, replace, last = [], {}, {}, None
    for w in wanted:
        found = index.get(w.key)
        if found is not None:
            last = w.key
            if found.tokens != w.tokens:
                replace[w.key] = w
        elif last is None:
            start.append(w)
        else:
            after.setdefault(last, []).append(w)
    if not start and not after and not replace:
        return cur
    present = {w.key for w in wanted if w.key in index}
    out = []
    for r in cur:
        k = r.key
        if k not in present:
            out.append(r)
            continue
        present.discard(k)
        out.extend(start)
        start = []
        out.append(replace.get(k, r))
        out.extend(after.get(k, ()))
    out.extend(start)
    return out


def _replaced_target(cur, wanted, ignore):
    """replaced/overridden: exactly `wanted`, plus the rules `ignore` matches,
    each kept right after the wanted rule it follows now (at the top when no
    wanted rule is before it). A rule that is both ignored and wanted is ours."""
    wanted_keys = {w.key for w in wanted}
    head, after, anchor = [], {}, None
    for r in cur:
        if r.key in wanted_keys:
            anchor = r.key
        elif ignore.rule(r):
            if anchor is None:
                head.append(r)
            else:
                after.setdefault(anchor, []).append(r)
    if not head and not after:
        return list(wanted)
    out = head
    for w in wanted:
        out.append(w)
        out.extend(after.pop(w.key, ()))
    return out


def transition(current, after):
    """The restore lines that turn table `current` into table `after` exactly."""
    lines, policies = [], []
    for name, ch in after.chains.items():
        if name not in current.chains and not ch.builtin:
            lines.append("-N %s" % name)
    for name, ch in after.chains.items():
        old = current.chains.get(name)
        _edit(name, old.rules if old is not None else [], ch.rules, lines)
        if ch.builtin and ch.policy != (old.policy if old is not None else "ACCEPT"):
            policies.append("-P %s %s" % (name, ch.policy))
    lines.extend(policies)
    gone = [n for n in current.chains if n not in after.chains]
    lines.extend("-F %s" % n for n in gone if current.chains[n].rules)
    lines.extend("-X %s" % n for n in gone)
    return lines


def _check_targets(table, ignore):
    """A jump must land on a target or on a chain that exists afterwards."""
    for name, ch in table.chains.items():
        if ignore.chain(name):
            continue
        for r in ch.rules:
            t = r.target
            if t is None or t in V.TARGETS or t in table.chains or ignore.rule(r):
                continue
            raise RuleError(
                "table %s, chain %s, rule %s: key '%s': chain %s does not exist and is not in config"
                % (
                    table.name,
                    name,
                    repr(r.name) if r.name else repr(r.text()),
                    "goto" if r.goto else "jump",
                    t,
                )
            )


def plan_table(family, current, desired, state, ignore):
    """Plan one table of one family. `desired` is {chain: DesiredChain}."""
    after = current.copy()
    warnings = []
    drop = []

    def keep_foreign(rules):
        return [r for r in rules if ignore.rule(r)]

    if state == "deleted":
        keep = _protected(current, desired, ignore)
        listed = desired or {
            n: DesiredChain(n, None, None, c.builtin)
            for n, c in current.chains.items()
            if n not in keep
        }
        for name, dc in listed.items():
            ch = after.chains.get(name)
            if ch is None:
                continue
            if dc.rules is not None:
                gone = {r.key for r in dc.rules}
                ch.rules = [r for r in ch.rules if r.key not in gone]
            elif ch.builtin:
                ch.rules = keep_foreign(ch.rules)
            else:
                drop.append(name)
        for name in drop:
            # rules that jump to a chain being deleted go with it
            for other in after.chains.values():
                if other.name in drop:
                    continue
                refs = [r for r in other.rules if r.target == name]
                if refs and (ignore.chain(other.name) or any(ignore.rule(r) for r in refs)):
                    raise RuleError(
                        "table %s, chain %s: cannot delete it: ignored rules in chain %s jump to it"
                        % (current.name, name, other.name)
                    )
                if refs:
                    other.rules = [r for r in other.rules if r.target != name]
    else:
        for name, dc in desired.items():
            ch = after.chains.get(name)
            if ch is None:
                ch = after.chains[name] = Chain(name, "ACCEPT" if dc.builtin else None)
            if dc.policy is not None:
                ch.policy = dc.policy
            wanted = dc.rules or []
            if state == "merged":
                ch.rules = _merged_target(ch.rules, wanted)
            else:
                ch.rules = _replaced_target(ch.rules, wanted, ignore)
        if state == "overridden":
            keep = _protected(after, desired, ignore)
            for name, ch in after.chains.items():
                if name in desired or name in keep:
                    if name in keep and not ignore.chain(name):
                        warnings.append(
                            "table %s (%s): chain %s is kept because ignored rules jump to it"
                            % (current.name, family, name)
                        )
                    continue
                ch.rules = keep_foreign(ch.rules)
                if ch.builtin:
                    ch.policy = "ACCEPT"
                else:
                    drop.append(name)
    for name in drop:
        del after.chains[name]
    _check_targets(after, ignore)
    return TablePlan(family, current, after, transition(current, after), warnings)


def plan(current, desired, state, ignore, families):
    """current: {family: {table: Table}}; desired: compile_config() output.
    Returns the list of TablePlan for every table the state touches."""
    plans = []
    keys = list(desired)
    if state == "deleted" and not desired:
        keys = [(fam, t) for fam in families for t in current.get(fam, {})]
    for fam, tname in keys:
        cur = current.get(fam, {}).get(tname) or Table.empty(tname)
        plans.append(plan_table(fam, cur, desired.get((fam, tname), {}), state, ignore))
    return plans


def render_config(desired):
    """`rendered`: the full iptables-restore text of config, per family."""
    out = {}
    for (fam, tname), chains in desired.items():
        table = Table.empty(tname)
        for name, dc in chains.items():
            ch = table.chains.get(name) or Chain(name, None)
            table.chains[name] = ch
            if dc.policy:
                ch.policy = dc.policy
            ch.rules = list(dc.rules or [])
        out[fam] = out.get(fam, "") + render_table(table)
    return out
