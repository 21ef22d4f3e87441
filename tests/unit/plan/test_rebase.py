"""Planning again over another writer's change (module_utils/_plan/rebase.py), pure:
protect keeps the newcomers, judge / newcomers / missing_rules read the fresh table,
rebase takes our transaction out of it. With the apply loop around it:
tests/unit/module/test_apply.py."""

from __future__ import annotations

from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGN
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import rebase as RB
from ansible_collections.hostfw.netfilter.tests.fixtures.input_chain import (
    X10,
    A,
    B,
    F,
    K,
    X,
    filter_table,
    specs,
)
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import rule


def test_protected_keeps_newcomers_and_delegates():
    ign = IGN.Ignore(["^race-keep"])
    keep = RB.protect(ign, {rule(F).tokens})
    assert keep.rule(rule(F)) and keep.rule(rule(K)) and not keep.rule(rule(A))
    assert keep.chain("x") is False and keep.regexes == ign.regexes
    assert RB.protect(ign, frozenset()) is ign


def test_judge():
    before, after = filter_table([A, X, B]), filter_table([A, X10, B])
    p = OPS.plan_of("ipv4", before, after)
    assert RB.judge(p, filter_table([F, A, X10, B])) == RB.SETTLED
    assert RB.judge(p, filter_table([A, X, B])) == RB.UNCHANGED
    assert RB.judge(p, filter_table([F, X10, A, B])) == RB.DRIFTED
    assert RB.newcomers(p, filter_table([F, X10, A, B])) == {rule(F).tokens}
    assert RB.missing_rules(p, filter_table([A, B])) == [("INPUT", rule(X10))]


def test_rebase_takes_our_transaction_out_and_keeps_the_writers_change():
    before, after = filter_table([K, A, X, B]), filter_table([K, A, X10, B])
    p = OPS.plan_of("ipv4", before, after)
    fresh = filter_table([F, A, B, X10])  # K deleted, F added, ours misplaced
    assert specs(RB.rebase(p, fresh, applied=True)) == [F, A, X, B]
    assert specs(RB.rebase(p, fresh, applied=False)) == [F, A, B, X10]
