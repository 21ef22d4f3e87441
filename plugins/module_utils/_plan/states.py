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


def _replaced_target(cur, wanted, ignore, slot=None):
    """replaced/overridden: exactly `wanted`, plus the rules `ignore` matches,
    each kept right after the wanted rule it follows now (at the top when no
    wanted rule is before it). A rule that is both ignored and wanted is ours.

    With `slot` (the chain's ignored_slot, an IgnoredSlot), the kept rules it
    selects are instead gathered, in their current order, immediately in front
    of the wanted rule it names (or at the end), wherever they are now."""
    wanted_keys = {w.key for w in wanted}
    head, after, slotted, anchor = [], {}, [], None
    for r in cur:
        if r.key in wanted_keys:
            anchor = r.key
        elif ignore.rule(r):
            if slot is not None and slot.takes(r):
                slotted.append(r)
            elif anchor is None:
                head.append(r)
            else:
                after.setdefault(anchor, []).append(r)
    if not head and not after and not slotted:
        return list(wanted)
    at = slot.index(wanted) if slotted else -1
    out = head
    for i, w in enumerate(wanted):
        if i == at:
            out.extend(slotted)
        out.append(w)
        out.extend(after.pop(w.key, ()))
    if at == len(wanted):
        out.extend(slotted)
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


def _keep_foreign(rules, ignore):
    return [r for r in rules if ignore.rule(r)]


def _deleted(current, after, desired, ignore):
    """state deleted: the listed rules, or listed chains as a whole (with the
    rules that jump to them). Returns the user chains to drop."""
    keep = protected(current, desired, ignore)
    listed = desired or {
        n: DesiredChain(n, None, None, c.builtin)
        for n, c in current.chains.items()
        if n not in keep
    }
    drop = []
    for name, dc in listed.items():
        ch = after.chains.get(name)
        if ch is None:
            continue
        if dc.rules is not None:
            gone = {r.key for r in dc.rules}
            ch.rules = [r for r in ch.rules if r.key not in gone]
        elif ch.builtin:
            ch.rules = _keep_foreign(ch.rules, ignore)
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
    return drop


def _listed(after, desired, state, ignore):
    """merged / replaced / overridden: each listed chain becomes its target."""
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
            ch.rules = _replaced_target(ch.rules, wanted, ignore, dc.slot)


def _unlisted(family, current, after, desired, ignore, warnings):
    """overridden: what is not listed goes, except what ignore protects.
    Returns the user chains to drop."""
    drop = []
    keep = protected(after, desired, ignore)
    for name, ch in after.chains.items():
        if name in desired or name in keep:
            if name in keep and not ignore.chain(name):
                warnings.append(
                    "table %s (%s): chain %s is kept because ignored rules jump to it"
                    % (current.name, family, name)
                )
            continue
        ch.rules = _keep_foreign(ch.rules, ignore)
        if ch.builtin:
            ch.policy = "ACCEPT"
        else:
            drop.append(name)
    return drop


def plan_table(family, current, desired, state, ignore):
    """Plan one table of one family. `desired` is {chain: DesiredChain}."""
    after = current.copy()
    warnings = []
    drop = []
    if state == "deleted":
        drop = _deleted(current, after, desired, ignore)
    else:
        _listed(after, desired, state, ignore)
        if state == "overridden":
            drop = _unlisted(family, current, after, desired, ignore, warnings)
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
