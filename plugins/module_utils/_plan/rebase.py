# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning again over another writer's changes (concurrency-safe apply). Pure.

After a transaction the chains it touched are read back and judged against the
plan (`judge`). Rules that appeared since the read the plan was made from, and
that the plan neither had nor made, are *newcomers*: someone else's, kept where
their writer put them (`Protected`, like ignored rules). When another writer
changed a touched chain, the state as that writer left it is rebuilt (`rebase`:
the chains the plan was made from, with the writer's deletions and newcomers;
our own transaction taken out again) and planned again; the caller turns the new
plan into operations from the fresh state."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import Chain, Table
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.operations import (
    TablePlan,
    plan_of,
)

SETTLED = "settled"  # the touched chains are as planned (newcomers aside)
UNCHANGED = "unchanged"  # the touched chains are exactly as the plan found them
DRIFTED = "drifted"  # neither: another writer changed them


class Protected:
    """An `ignore` (see _plan/ignore.py) that also keeps the newcomers: its
    ``rule(r)`` is true when `ignore` matches r or r's tokens are in `keep`;
    ``chain`` and everything else come from `ignore`."""

    def __init__(self, ignore, keep):
        self.ignore = ignore
        self.keep = frozenset(keep)

    def rule(self, rule):
        return rule.tokens in self.keep or self.ignore.rule(rule)

    def chain(self, name):
        return self.ignore.chain(name)

    def __getattr__(self, name):
        if name in ("ignore", "keep"):  # not set yet (copy, pickle)
            raise AttributeError(name)
        return getattr(self.ignore, name)


def protect(ignore, keep):
    """`ignore` itself when nothing is to be kept besides it."""
    return Protected(ignore, keep) if keep else ignore


def _tokens(chain):
    return [r.tokens for r in chain.rules] if chain is not None else []


def newcomers(plan, fresh):
    """{tokens} of the rules in the touched chains of table `fresh` that are in
    neither plan.before nor plan.after (someone else wrote them meanwhile)."""
    out = set()
    for name in plan.touched():
        known = set(_tokens(plan.before.chains.get(name)))
        known.update(_tokens(plan.after.chains.get(name)))
        out.update(t for t in _tokens(fresh.chains.get(name)) if t not in known)
    return out


def _same(a, b, skip=frozenset()):
    if a is None or b is None:
        return a is None and b is None
    return a.policy == b.policy and [t for t in _tokens(b) if t not in skip] == _tokens(a)


def judge(plan, fresh):
    """SETTLED, UNCHANGED or DRIFTED: table `fresh` (read back after the
    transaction of `plan`, or after its failure) against the plan, over the
    chains the plan touched. (A transaction that went through yet left DRIFTED
    chains without a rule it wrote is no race: see missing_rules.)"""
    names = plan.touched()
    skip = newcomers(plan, fresh)
    if all(_same(plan.after.chains.get(n), fresh.chains.get(n), skip) for n in names):
        return SETTLED
    if all(_same(plan.before.chains.get(n), fresh.chains.get(n)) for n in names):
        return UNCHANGED
    return DRIFTED


def missing_rules(plan, fresh):
    """[(chain, Rule)] the plan wrote that table `fresh` does not hold."""
    out = []
    for n in plan.touched():
        after = plan.after.chains.get(n)
        have = set(_tokens(fresh.chains.get(n)))
        before = set(_tokens(plan.before.chains.get(n)))
        for r in after.rules if after is not None else ():
            if r.tokens not in have and r.tokens not in before:
                out.append((n, r))
    return out


def _weave(base, fresh_rules, known):
    """`base` with each newcomer of `fresh_rules` (tokens not in `known`) put
    right after the nearest rule before it there that `base` holds too (at the
    top when there is none)."""
    held = {r.tokens for r in base}
    anchor, after = None, {}
    for r in fresh_rules:
        if r.tokens not in known:
            after.setdefault(anchor, []).append(r)
        elif r.tokens in held:
            anchor = r.tokens
    if not after:
        return list(base)
    out = list(after.pop(None, ()))
    for r in base:
        out.append(r)
        out.extend(after.pop(r.tokens, ()))
    return out


def _rebased_chain(plan, name, fresh):
    before = plan.before.chains.get(name)
    after = plan.after.chains.get(name)
    now = fresh.chains.get(name)
    if before is None and now is None:
        return None
    if before is None:  # a chain the plan created: empty before, then the newcomers
        before = Chain(name, "ACCEPT" if after is not None and after.builtin else None)
    b, a = set(_tokens(before)), set(_tokens(after))
    vanished = (b & a) - set(_tokens(now))  # kept by the plan, deleted by the other writer
    base = [r for r in before.rules if r.tokens not in vanished]
    rules = _weave(base, now.rules if now is not None else [], b | a)
    policy = before.policy
    if now is not None and now.policy != policy and (after is None or now.policy != after.policy):
        policy = now.policy  # the other writer set it
    return Chain(name, policy, rules)


def rebase(plan, fresh, applied):
    """The table as the other writer left it, for planning again: `fresh` where
    the plan did not reach; in the touched chains, plan.before with what the
    other writer deleted taken out and its newcomers woven in. When the
    transaction was not `applied`, that is `fresh` itself."""
    out = fresh.copy()
    if not applied:
        return out
    for name in plan.touched():
        ch = _rebased_chain(plan, name, fresh)
        if ch is None:
            out.chains.pop(name, None)
        else:
            out.chains[name] = ch
    return out


def table_of(tables, name):
    """Table `name` of {name: Table}, or the empty table the host does not show."""
    return tables.get(name) or Table.empty(name)


def lost_message(plan, fresh_tables):
    """None, or why a transaction that went through is not what the host holds:
    a rule it wrote is not there at all (not a race: the kernel stored it
    differently, or another program removed it at once)."""
    missing = missing_rules(plan, table_of(fresh_tables, plan.before.name))
    if not missing:
        return None
    return (
        "the %s table %s does not hold what this task just wrote (chain %s: %s): the kernel "
        "stored it differently from the plan, or another program removed it; check it with "
        "iptables-save" % (plan.family, plan.before.name, missing[0][0], missing[0][1].text())
    )


def replan(planner, current, fresh_tables, plans, applied, keep):
    """The plans of one family made again: `planner` sees the tables as the
    other writer left them (`fresh_tables` with `plans` rebased, our own
    transaction taken out where it was `applied`); their operations start from
    the fresh tables themselves."""
    fam = plans[0].family
    tables = dict(fresh_tables)
    for p in plans:
        tables[p.before.name] = rebase(p, table_of(fresh_tables, p.before.name), p in applied)
    state = dict(current)
    state[fam] = tables
    return [
        plan_of(fam, table_of(fresh_tables, p.before.name), p.after, p.warnings)
        for p in planner(state, keep)
        if p.family == fam
    ]


def report(first, applied, last):
    """Per table: before as first read, after as last planned, and every
    operation that was applied (the `commands`), in order."""
    out = {}
    for p in list(first) + list(last):
        key = (p.family, p.before.name)
        was = out.get(key)
        out[key] = TablePlan(p.family, was.before if was else p.before, p.after, [], p.warnings)
    for p in applied:
        key = (p.family, p.before.name)
        if key not in out:
            out[key] = TablePlan(p.family, p.before, p.after, [], [])
        out[key].ops.extend(p.ops)
    return list(out.values())
