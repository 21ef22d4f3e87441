# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of one table as typed operations: `transition` (the operations that
turn the host's table into the planned one), `simulate` (what the kernel does
with them) and `inverse` (the operations that undo them). Pure: each backend
renders operations at its own edge (restore text, libiptc calls).

No existing rule is ever addressed by its index: a rule is deleted by its full
specification (the kernel removes the FIRST rule of the chain that has it), and
a changed rule is deleted and inserted again. Only inserts carry a position,
computed on the chain as it is after the deletes of the same transaction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import difflib

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import Chain

NEW_CHAIN = "new_chain"
APPEND = "append"
INSERT = "insert"
DELETE = "delete"
POLICY = "policy"
FLUSH = "flush"
DELETE_CHAIN = "delete_chain"
KINDS = (NEW_CHAIN, APPEND, INSERT, DELETE, POLICY, FLUSH, DELETE_CHAIN)


class Op(collections.namedtuple("Op", "kind table chain rule position policy")):
    """One operation on one chain of one table.

    kind: one of KINDS; rule: the Rule of append/insert/delete (delete is by
    specification), else None; position: 1-based, inserts only; policy: the
    new policy of a built-in chain (POLICY only)."""

    __slots__ = ()

    def __new__(cls, kind, table, chain, rule=None, position=None, policy=None):
        if kind not in KINDS:
            raise ValueError("unknown operation kind %r" % (kind,))
        return super().__new__(cls, kind, table, chain, rule, position, policy)


class SimulationError(ValueError):
    """An operation the kernel would refuse (the transaction would be rejected)."""


class TablePlan:
    """The operations for one table of one family and the state they lead to."""

    __slots__ = ("family", "before", "after", "ops", "warnings")

    def __init__(self, family, before, after, ops, warnings=None):
        self.family = family
        self.before = before
        self.after = after
        self.ops = ops
        self.warnings = warnings if warnings is not None else []

    @property
    def changed(self):
        return bool(self.ops)

    def touched(self):
        """The names of the chains the operations name, in order of first use."""
        seen = {}
        for op in self.ops:
            seen.setdefault(op.chain, None)
        return list(seen)


def plan_of(family, before, after, warnings=None):
    """The TablePlan that turns table `before` into table `after`."""
    return TablePlan(family, before, after, transition(before, after), warnings)


# ------------------------------------------------------------------ transition


def _alignment(cur, target):
    """[(i, j)]: cur[i] stays as target[j] (same identity and same tokens),
    found with difflib over rule identities (name, or tokens when unnamed)."""
    sm = difflib.SequenceMatcher(
        None, [r.key for r in cur], [r.key for r in target], autojunk=False
    )
    kept = []
    for tag, i1, i2, j1, _j2 in sm.get_opcodes():
        if tag == "equal":
            kept.extend(
                (i1 + k, j1 + k)
                for k in range(i2 - i1)
                if cur[i1 + k].tokens == target[j1 + k].tokens
            )
    return kept


def _edit_ops(table, chain, cur, target, kept):
    """Deletes first, in chain order (fast on nf_tables: each delete by
    specification scans the chain from its front), then the inserts and appends
    in ascending position, counted on the chain after the deletes."""
    kept_i = {i for i, _j in kept}
    kept_j = {j for _i, j in kept}
    ops = [Op(DELETE, table, chain, r) for i, r in enumerate(cur) if i not in kept_i]
    length = len(kept)
    for j, r in enumerate(target):
        if j in kept_j:
            continue
        if j == length:
            ops.append(Op(APPEND, table, chain, r))
        else:
            ops.append(Op(INSERT, table, chain, r, position=j + 1))
        length += 1
    return ops


def _without_duplicates(cur, kept):
    """The alignment minus every kept rule whose specification is also deleted
    elsewhere in the chain: each copy of such a specification is then deleted
    (whichever copy a delete removes, all go) and inserted again where the plan
    puts it."""
    kept_i = {i for i, _j in kept}
    deleted = {r.tokens for i, r in enumerate(cur) if i not in kept_i}
    counts = collections.Counter(r.tokens for r in cur)
    shared = {t for t in deleted if counts[t] > 1}
    return [(i, j) for i, j in kept if cur[i].tokens not in shared]


def chain_ops(table, chain, cur, target):
    """The operations that turn rule list `cur` into rule list `target` exactly."""
    if len(cur) == len(target) and all(a.tokens == b.tokens for a, b in zip(cur, target)):
        return []
    kept = _alignment(cur, target)
    ops = _edit_ops(table, chain, cur, target, kept)
    want = [r.tokens for r in target]
    if [r.tokens for r in _apply_rules(cur, ops)] != want:
        # a delete by specification would hit an earlier identical rule
        ops = _edit_ops(table, chain, cur, target, _without_duplicates(cur, kept))
    return ops


def transition(current, after):
    """The operations that turn table `current` into table `after` exactly:
    new chains, then per chain its deletes and inserts, then policies, then the
    chains that go (flushed, then deleted)."""
    t = current.name
    ops = [
        Op(NEW_CHAIN, t, name)
        for name, ch in after.chains.items()
        if name not in current.chains and not ch.builtin
    ]
    policies = []
    for name, ch in after.chains.items():
        old = current.chains.get(name)
        ops.extend(chain_ops(t, name, old.rules if old is not None else [], ch.rules))
        if ch.builtin and ch.policy != (old.policy if old is not None else "ACCEPT"):
            policies.append(Op(POLICY, t, name, policy=ch.policy))
    ops.extend(policies)
    gone = [n for n in current.chains if n not in after.chains]
    ops.extend(Op(FLUSH, t, n) for n in gone if current.chains[n].rules)
    ops.extend(Op(DELETE_CHAIN, t, n) for n in gone)
    return ops


# ------------------------------------------------------------------ simulate


def _delete_run(rules, ops):
    """A run of consecutive deletes by specification on one chain, as the kernel
    does them one after another: each removes the first remaining rule with its
    specification, so together they remove the first n copies of a
    specification named n times. One pass over the chain."""
    wanted = collections.Counter(op.rule.tokens for op in ops)
    out = []
    for r in rules:
        if wanted.get(r.tokens):
            wanted[r.tokens] -= 1
        else:
            out.append(r)
    missing = [t for t, n in wanted.items() if n]
    if missing:
        raise SimulationError(
            "chain %s: no rule matches %s" % (ops[0].chain, " ".join(missing[0]) or "(empty rule)")
        )
    return out


def _runs(ops):
    """ops grouped: each run of consecutive deletes on one chain as one list."""
    i, n = 0, len(ops)
    while i < n:
        j = i + 1
        if ops[i].kind == DELETE:
            while j < n and ops[j].kind == DELETE and ops[j].chain == ops[i].chain:
                j += 1
        yield ops[i:j]
        i = j


def _apply_rules(rules, ops):
    """Rule edits (delete, insert, append) of one chain applied to a list."""
    out = list(rules)
    for run in _runs(ops):
        op = run[0]
        if op.kind == DELETE:
            out = _delete_run(out, run)
        elif op.kind == APPEND:
            out.append(op.rule)
        elif op.kind == INSERT:
            if not 1 <= op.position <= len(out) + 1:
                raise SimulationError(
                    "chain %s: index of insertion %d too big" % (op.chain, op.position)
                )
            out.insert(op.position - 1, op.rule)
        else:
            raise SimulationError("not a rule edit: %r" % (op,))
    return out


def _chain(table, op):
    ch = table.chains.get(op.chain)
    if ch is None:
        raise SimulationError("chain %s does not exist in table %s" % (op.chain, table.name))
    return ch


def _apply_chain_op(table, op):
    """new_chain, policy, flush, delete_chain on a (copied) table."""
    if op.kind == NEW_CHAIN:
        if op.chain in table.chains:
            raise SimulationError("chain %s already exists" % op.chain)
        table.chains[op.chain] = Chain(op.chain)
        return
    ch = _chain(table, op)
    if op.kind == POLICY:
        if not ch.builtin:
            raise SimulationError("chain %s is not a built-in chain: no policy" % op.chain)
        ch.policy = op.policy
    elif op.kind == FLUSH:
        ch.rules = []
    elif op.kind == DELETE_CHAIN:
        if ch.builtin:
            raise SimulationError("chain %s is a built-in chain" % op.chain)
        if ch.rules:
            raise SimulationError("chain %s is not empty" % op.chain)
        if any(r.target == op.chain for c in table.chains.values() for r in c.rules):
            raise SimulationError("chain %s is still referenced" % op.chain)
        del table.chains[op.chain]


def simulate(table, ops):
    """The table the kernel holds after `ops` (pure; `table` is not changed).
    Raises SimulationError where the kernel would reject the transaction."""
    out = table.copy()
    for run in _runs(ops):
        op = run[0]
        if op.table != table.name:
            raise SimulationError("operation on table %s, not %s" % (op.table, table.name))
        if op.kind in (DELETE, APPEND, INSERT):
            ch = _chain(out, op)
            ch.rules = _apply_rules(ch.rules, run)
        else:
            _apply_chain_op(out, op)
    return out


def inverse(ops, before):
    """The operations that undo `ops` applied to table `before`."""
    return transition(simulate(before, ops), before)
