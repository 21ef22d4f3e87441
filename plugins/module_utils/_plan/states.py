# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declarative states of hostfw.netfilter.ruleset: merged, replaced,
overridden and deleted, planned per table and family; and ``rendered``. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import (
    Chain,
    Table,
    render_table,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.config import DesiredChain
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.ignore import protected
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.operations import (
    TablePlan,
    transition,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError


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
        keep = protected(current, desired, ignore)
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
            keep = protected(after, desired, ignore)
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
