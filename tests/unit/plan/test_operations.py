"""The plan as typed operations (module_utils/_plan/operations.py): transition,
simulate and inverse, as properties over generated tables (duplicate identical
rules, named rules whose options change, user chains, jumps, policies); the order
of the operations; and the restore lines of a transition applied to the model
table. The kernel's own delete-by-specification semantics, which simulate must copy
exactly: tests/kernel/plan/test_operations.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import PAIRS, RULES, rule, shape

BUILTIN = ("INPUT", "FORWARD", "OUTPUT")
USER = ("U1", "U2")


@st.composite
def tables(draw):
    """A valid filter table: jumps only to user chains it has, none in a loop."""
    t = SAVE.Table.empty("filter")
    for name in BUILTIN:
        t.chains[name].policy = draw(st.sampled_from(["ACCEPT", "DROP"]))
    users = draw(st.lists(st.sampled_from(USER), unique=True))
    for name in users:
        t.chains[name] = SAVE.Chain(name)
    for ch in t.chains.values():
        jumps = [rule("-j %s" % u) for u in users if ch.builtin]
        pool = RULES + jumps
        # few distinct rules, many picks: identical copies are common
        ch.rules = draw(st.lists(st.sampled_from(pool), max_size=8))
    return t


def rule_edits_in_order(ops):
    """Per chain: every delete before every insert/append, inserts ascending."""
    by_chain = {}
    for op in ops:
        if op.kind in (OPS.DELETE, OPS.INSERT, OPS.APPEND):
            by_chain.setdefault(op.chain, []).append(op)
    for chain_ops in by_chain.values():
        kinds = [op.kind for op in chain_ops]
        deletes = kinds.count(OPS.DELETE)
        assert all(k == OPS.DELETE for k in kinds[:deletes]), kinds
        positions = [op.position for op in chain_ops if op.kind == OPS.INSERT]
        assert positions == sorted(positions), positions


@settings(max_examples=400, deadline=None)
@given(tables(), tables())
def test_transition_reaches_after_and_inverse_restores_before(before, after):
    ops = OPS.transition(before, after)
    got = OPS.simulate(before, ops)
    assert shape(got) == shape(after)
    rule_edits_in_order(ops)
    assert OPS.transition(after, after) == []
    undo = OPS.inverse(ops, before)
    assert shape(OPS.simulate(got, undo)) == shape(before)
    # simulate is pure
    assert shape(OPS.simulate(before, [])) == shape(before)


def test_duplicates_fall_back_to_a_safe_sequence():
    """[R, X, R] -> [R, X]: the ordinary plan deletes the second R by its
    specification, which removes the FIRST R; the safe sequence deletes every copy
    of R and inserts them again where the plan puts them."""
    r, x = RULES[0], RULES[2]
    before = SAVE.Table.empty("filter")
    before.chains["INPUT"].rules = [r, x, r]
    after = before.copy()
    after.chains["INPUT"].rules = [r, x]
    ops = OPS.transition(before, after)
    assert RESTORE.render_ops(ops) == [
        "-D INPUT %s" % r.text(),
        "-D INPUT %s" % r.text(),
        "-I INPUT 1 %s" % r.text(),
    ]
    assert shape(OPS.simulate(before, ops)) == shape(after)


def test_deletes_come_first_in_chain_order_then_inserts_ascending():
    r = RULES
    before = SAVE.Table.empty("filter")
    before.chains["INPUT"].rules = [r[0], r[1], r[2], r[3]]
    after = before.copy()
    after.chains["INPUT"].rules = [r[7], r[1], r[5], r[3], r[6]]
    ops = OPS.transition(before, after)
    assert [(op.kind, op.position) for op in ops] == [
        (OPS.DELETE, None),
        (OPS.DELETE, None),
        (OPS.INSERT, 1),
        (OPS.INSERT, 3),
        (OPS.APPEND, None),
    ]
    assert [op.rule for op in ops[:2]] == [r[0], r[2]]


def test_a_changed_named_rule_is_delete_plus_insert():
    old, new = RULES[4], RULES[5]  # both named "a"
    before = SAVE.Table.empty("filter")
    before.chains["INPUT"].rules = [RULES[0], old, RULES[1]]
    after = before.copy()
    after.chains["INPUT"].rules = [RULES[0], new, RULES[1]]
    assert RESTORE.render_ops(OPS.transition(before, after)) == [
        "-D INPUT %s" % old.text(),
        "-I INPUT 2 %s" % new.text(),
    ]


def test_op_record():
    op = OPS.Op(OPS.INSERT, "filter", "INPUT", RULES[0], position=3)
    assert (op.kind, op.table, op.chain, op.rule, op.position, op.policy) == (
        "insert",
        "filter",
        "INPUT",
        RULES[0],
        3,
        None,
    )
    assert op == OPS.Op("insert", "filter", "INPUT", RULES[0], 3)
    with pytest.raises(ValueError):
        OPS.Op("replace", "filter", "INPUT")


@pytest.mark.parametrize(
    ("ops", "words"),
    [
        ([OPS.Op(OPS.DELETE, "filter", "INPUT", RULES[0])], "no rule matches"),
        ([OPS.Op(OPS.NEW_CHAIN, "filter", "INPUT")], "already exists"),
        ([OPS.Op(OPS.POLICY, "filter", "U1", policy="DROP")], "not a built-in"),
        ([OPS.Op(OPS.DELETE_CHAIN, "filter", "U1")], "still referenced"),
        ([OPS.Op(OPS.INSERT, "filter", "INPUT", RULES[0], position=3)], "too big"),
        ([OPS.Op(OPS.APPEND, "filter", "NOPE", RULES[0])], "does not exist"),
    ],
)
def test_simulate_refuses_what_the_kernel_refuses(ops, words):
    t = SAVE.Table.empty("filter")
    t.chains["U1"] = SAVE.Chain("U1")
    t.chains["INPUT"].rules = [rule("-j U1")]
    with pytest.raises(OPS.SimulationError, match=words):
        OPS.simulate(t, ops)


def test_table_plan():
    t = SAVE.Table.empty("filter")
    after = t.copy()
    after.chains["INPUT"].rules = [RULES[0]]
    after.chains["FORWARD"].policy = "DROP"
    p = OPS.plan_of("ipv4", t, after, ["w"])
    assert p.changed and p.family == "ipv4" and p.warnings == ["w"]
    assert p.touched() == ["INPUT", "FORWARD"]
    assert not OPS.plan_of("ipv4", t, t.copy()).changed


# -------------------------------------------------- transition lines


def test_transition_pure_round_trip():
    """Applying the lines to the model table (a small interpreter) gives `after`."""
    for a, b in PAIRS:
        t = apply_lines(a.copy(), RESTORE.render_ops(OPS.transition(a, b)))
        assert shape(t) == shape(b)
        assert OPS.transition(b, b) == []


def apply_lines(t, lines):
    for line in lines:
        words = TOK.tokenize(line)
        op, chain = words[0], words[1]
        if op == "-N":
            t.chains[chain] = SAVE.Chain(chain)
        elif op == "-X":
            del t.chains[chain]
        elif op == "-F":
            t.chains[chain].rules = []
        elif op == "-P":
            t.chains[chain].policy = words[2]
        elif op == "-D":  # by specification: the first rule that has it
            rules = t.chains[chain].rules
            spec = tuple(words[2:])
            del rules[[r.tokens for r in rules].index(spec)]
        elif op == "-A":
            t.chains[chain].rules.append(RULE.rule_from_tokens(tuple(words[2:])))
        elif op == "-I":
            t.chains[chain].rules.insert(int(words[2]) - 1, RULE.rule_from_tokens(tuple(words[3:])))
        else:
            raise AssertionError("unexpected line %r" % line)
    return t
