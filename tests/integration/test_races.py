"""Concurrency-safe apply (issue #10 §3): another writer changes a chain between the
module's read and its write.

A wrapper first on PATH (``_race``) acts once as the other program (Docker, fail2ban,
an admin): it inserts a rule at the top of INPUT, or deletes a foreign rule there
that the plan keeps, just before the restore tool runs (restore backend), or just
after the save the module plans from (python_iptables, a writer that ignores the
xtables lock). Each case runs on nft and legacy with the restore backend and on
legacy with python_iptables, with the writer in IPv4 or in IPv6, for ``ruleset``,
``rule`` and ``chain``. Afterwards a fresh save must show the foreign rule exactly
where its writer put it (or gone, when it deleted it), our rules exactly as
planned and in order, and nothing else changed; the module must not fail, and the
same task run again reports no change.
"""

from __future__ import annotations

import shlex
from typing import NamedTuple

import pytest
from _race import Race
from module_cases import table_text
from ruleset_cases import COMBOS, FAMILIES, chains, strip, tables, unquote

NS = "hostfw.netfilter."


def spec(port, name=None, target="ACCEPT", proto="tcp"):
    """A rule as iptables-save prints it (after ``-A CHAIN``)."""
    comment = f' -m comment --comment "hostfw:{name}"' if name else ""
    return f"-p {proto} -m {proto} --dport {port}{comment} -j {target}"


A, B, C, D = spec(1, "a"), spec(2, "b"), spec(3, "c"), spec(4, "d")
X = spec(9, "x", "DROP")
X10 = spec(10, "x", "DROP")
HAND = spec(23)  # added by hand: no name, so purge removes it


def named(port, name, target="ACCEPT"):
    return {"name": name, "protocol": "tcp", "destination_port": port, "jump": target}


RULE_X = named(9, "x", "DROP")
IGNORE = ["^race-"]

# The other writer's rules, per family. Their comment is what `ignore` matches, so
# that replaced/purge keep them on any plan (the one made before the writer acted
# and any made after it): where they end up says only whether the apply was safe.
FOREIGN = {  # inserted at the top of INPUT by the writer
    "ipv4": '-s 198.51.100.77/32 -m comment --comment "race-writer" -j ACCEPT',
    "ipv6": '-s 2001:db8:77::77/128 -m comment --comment "race-writer" -j ACCEPT',
}
KEEP = {  # there before the module runs; the plan keeps it; the writer deletes it
    "ipv4": '-s 198.51.100.66/32 -m comment --comment "race-keep" -j ACCEPT',
    "ipv6": '-s 2001:db8:66::66/128 -m comment --comment "race-keep" -j ACCEPT',
}
K = "KEEP"  # KEEP[family] in a case's chains

# Chains no case touches: nothing there may change.
OTHER = {
    "OUTPUT": [spec(53, "dns-out", proto="udp")],
    "HOSTFW-SIDE": [spec(7, "side-a", "RETURN"), spec(8)],
}


def replaced(*rules):
    chain = {"name": "INPUT", "policy": "ACCEPT", "rules": list(rules)}
    return {
        "state": "replaced",
        "ignore": IGNORE,
        "config": [{"table": "filter", "chains": [chain]}],
    }


class Case(NamedTuple):
    id: str
    module: str
    args: dict
    before: list  # INPUT before (K: the kept foreign rule)
    expect: list  # INPUT as planned, had nobody else written
    writer: str  # "insert" FOREIGN at the top of INPUT, or "delete" KEEP


# The tasks of the cases.
REPLACED_ACD = replaced(named(1, "a"), named(3, "c"), named(4, "d"))
REPLACED_AC = replaced(named(1, "a"), named(3, "c"))
ABSENT_X = {"chain": "INPUT", "name": "x", "state": "absent"}
X_AFTER_B = {**RULE_X, "chain": "INPUT", "after": "b"}
X_PORT_10 = {**RULE_X, "chain": "INPUT", "destination_port": 10}
PURGE = {"name": "INPUT", "purge": True, "ignore": IGNORE}


def case(case_id, args, before, expect, writer="insert"):
    """A Case of the module its id starts with (``rule-absent``: rule)."""
    return Case(case_id, case_id.split("-")[0], args, before, expect, writer)


CASES = [
    # the ruleset case: delete one rule of ours, keep the others
    case("ruleset-replaced", REPLACED_ACD, [A, B, C, D], [A, C, D]),
    # rule state absent by name (it used to delete a neighbour)
    case("rule-absent", ABSENT_X, [A, X, B], [A, B]),
    # rule with after: that moves it (it used to delete the foreign rule, ours doubled)
    case("rule-after-moves", X_AFTER_B, [X, A, B, C], [A, B, X, C]),
    # a named rule's options change: today one -R by index
    case("rule-replace", X_PORT_10, [A, X, B], [A, X10, B]),
    # chain purge (it used to delete one of ours and keep the hand-added rule)
    case("chain-purge", PURGE, [A, HAND, B], [A, B]),
    # the writer deletes a foreign rule the plan keeps, between read and write
    case("ruleset-replaced-foreign-deleted", REPLACED_AC, [K, A, B, C], [K, A, C], "delete"),
    case("rule-absent-foreign-deleted", ABSENT_X, [K, A, X, B], [K, A, B], "delete"),
    case("chain-purge-foreign-deleted", PURGE, [K, A, HAND, B], [K, A, B], "delete"),
]


def resolve(rules, family):
    return [KEEP[family] if r == K else r for r in rules]


def writer_commands(case: Case, family: str) -> list[list[str]]:
    if case.writer == "insert":
        return [["-I", "INPUT", "1", *shlex.split(FOREIGN[family])]]
    return [["-D", "INPUT", *shlex.split(KEEP[family])]]


def expected(case: Case, family: str, raced: str) -> dict:
    """{chain: (policy, specs)} of the filter table after the task."""
    inp = resolve(case.expect, family)
    if family == raced and case.writer == "insert":
        inp = [FOREIGN[family], *inp]
    elif family == raced:
        inp = [r for r in inp if r != KEEP[family]]
    want = {"INPUT": inp, "FORWARD": [], **OTHER}
    policies = {"INPUT": "ACCEPT", "FORWARD": "ACCEPT", "OUTPUT": "ACCEPT"}
    order = ["INPUT", "FORWARD", "OUTPUT", "HOSTFW-SIDE"]
    return {c: (policies.get(c, "-"), [unquote(r) for r in want[c]]) for c in order}


def filter_chains(ns, family):
    text = strip(ns.save(family))
    assert tables(text) == ["filter"], f"{family}: tables {tables(text)}"
    return chains(unquote(text))


def show(res):
    return f"msg={res.get('msg')!r} commands={res.get('commands')!r}"


def load(ns, case):
    for fam in FAMILIES:
        start = {"INPUT": resolve(case.before, fam), **OTHER}
        ns.restore(table_text(start), fam, noflush=False)


def check_outcome(ns, case, args, raced, res):
    """The kernel holds the writer's change and our plan, the task did not fail, and
    the same task again changes nothing."""
    got = {fam: filter_chains(ns, fam) for fam in FAMILIES}
    for fam in FAMILIES:
        want = expected(case, fam, raced)
        assert got[fam] == want, f"{fam}: the filter table after the task ({show(res)})"
    assert not res["failed"], f"the task failed: {show(res)}"
    assert res["changed"] is True, show(res)

    again = ns.module(NS + case.module, args)
    assert not again["failed"], f"the second run failed: {show(again)}"
    assert again["changed"] is False, f"the second run changed: {show(again)}"
    assert not any((again.get("commands") or {}).values()), show(again)
    assert {fam: filter_chains(ns, fam) for fam in FAMILIES} == got, "the second run changed"


@pytest.mark.parametrize("raced", FAMILIES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_race(netns, variant, backend, case, raced):
    """The writer acts between the module's read and its write."""
    ns = netns
    load(ns, case)
    race = Race(ns, "save" if backend == "python_iptables" else "restore")
    race.arm(raced, writer_commands(case, raced))
    args = {**case.args, "backend": backend}
    res = ns.module(NS + case.module, args)
    race.assert_fired()
    check_outcome(ns, case, args, raced, res)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_writer_before_read(netns, variant, backend, case):
    """Control: the same writer acts before the module reads (no race). The same
    outcome is expected, so this proves the expectations of test_race (and passes
    today); only the timing of the writer differs between the two."""
    ns = netns
    load(ns, case)
    for cmd in writer_commands(case, "ipv4"):
        ns.iptables("-w", *cmd)
    args = {**case.args, "backend": backend}
    res = ns.module(NS + case.module, args)
    check_outcome(ns, case, args, "ipv4", res)
