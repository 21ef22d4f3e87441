"""hostfw.netfilter.rule: placement, identity and removal, on every (variant, backend).

Every case of CASES runs as check mode (with diff), apply (with diff), check mode
again and apply again, and is verified against the kernel's iptables-save and
ip6tables-save. One playbook per combination holds all the cases (module_cases).
Bad input fails naming the key and leaves the host as it was; a moved rule is
also proven by real packets.
"""

from __future__ import annotations

import contextlib

import pytest
from module_cases import (
    COMBO_VALUES,
    case_tasks,
    check_case,
    check_failed,
    check_whole_table,
    load_task,
    mtask,
    run_combos,
    table_text,
)
from ruleset_cases import FAMILIES, by_name, chains, recorded, save_task


def spec(port, name=None, target="ACCEPT", proto="tcp"):
    """A rule as iptables-save prints it (after ``-A CHAIN``)."""
    comment = f' -m comment --comment "hostfw:{name}"' if name else ""
    return f"-p {proto} -m {proto} --dport {port}{comment} -j {target}"


A, B, C = spec(1, "a"), spec(2, "b"), spec(3, "c")
X = spec(9, "x", "DROP")  # the rule the tasks manage
X10 = spec(10, "x", "DROP")
OLD = spec(9, "old", "DROP")
BARE_X = spec(9, None, "DROP")  # X's match, added by hand: no name
DNS = spec(53, None, "ACCEPT", "udp")
RULE_X = {"name": "x", "protocol": "tcp", "destination_port": 9, "jump": "DROP"}
RULE_DNS = {"protocol": "udp", "destination_port": 53, "jump": "ACCEPT"}
SSH4 = '-s 192.0.2.0/24 -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh#1" -j ACCEPT'
SSH6 = '-s 2001:db8::/32 -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh#2" -j ACCEPT'
RULE_SSH = {
    "name": "ssh",
    "protocol": "tcp",
    "destination_port": 22,
    "source": ["192.0.2.0/24", "2001:db8::/32"],
    "jump": "ACCEPT",
}


def inp(*rules):
    """The case's own chain holding ``rules``."""
    return {"@": list(rules)}


# (id = the case's chain, before, task args (chain @ unless given), expected, check keywords)
CASES = [
    # append / prepend: where a missing rule goes; an existing one never moves
    ("append-new", inp(A, B, C), RULE_X, inp(A, B, C, X), dict(moved=False, found=None)),
    ("append-keeps-place", inp(X, A, B), RULE_X, inp(X, A, B), dict(moved=False, found="name")),
    ("prepend-new", inp(A, B), {**RULE_X, "position": "prepend"}, inp(X, A, B), {}),
    ("prepend-keeps-place", inp(A, X, B), {**RULE_X, "position": "prepend"}, inp(A, X, B), {}),
    # a number is a constraint
    ("number-new", inp(A, B, C), {**RULE_X, "position": 2}, inp(A, X, B, C), {}),
    (
        "number-moves",
        {"INPUT": [X, A, B, C]},
        {**RULE_X, "chain": "INPUT", "position": 3},
        {"INPUT": [A, B, X, C]},
        dict(moved=True, found="name"),
    ),
    ("number-met", inp(A, X, B), {**RULE_X, "position": "2"}, inp(A, X, B), dict(moved=False)),
    ("number-past-end", inp(X, A, B), {**RULE_X, "position": 9}, inp(A, B, X), dict(moved=True)),
    # before / after another rule's name are constraints
    ("before-new", inp(A, B, C), {**RULE_X, "before": "b"}, inp(A, X, B, C), dict(moved=False)),
    ("before-moves", inp(A, B, X, C), {**RULE_X, "before": "a"}, inp(X, A, B, C), dict(moved=True)),
    ("before-met", inp(X, A, B, C), {**RULE_X, "before": "c"}, inp(X, A, B, C), dict(moved=False)),
    ("after-new", inp(A, B, C), {**RULE_X, "after": "a"}, inp(A, X, B, C), dict(moved=False)),
    ("after-moves", inp(X, A, B, C), {**RULE_X, "after": "b"}, inp(A, B, X, C), dict(moved=True)),
    ("after-met", inp(A, B, C, X), {**RULE_X, "after": "a"}, inp(A, B, C, X), dict(moved=False)),
    (
        "between-moves",
        inp(X, A, B, C),
        {**RULE_X, "after": "a", "before": "c"},
        inp(A, B, X, C),
        dict(moved=True),
    ),
    (
        "missing-anchor",
        inp(A, B),
        {**RULE_X, "before": "nosuch", "position": "prepend"},
        inp(X, A, B),
        dict(moved=False, warning="nosuch"),
    ),
    # identity: options of a named rule change in place; rename; adoption
    (
        "option-change",
        inp(A, X, B),
        {**RULE_X, "destination_port": 10},
        inp(A, X10, B),
        dict(moved=False, found="name"),
    ),
    (
        "rename",
        inp(A, OLD, B),
        {**RULE_X, "rename_from": "old"},
        inp(A, X, B),
        dict(moved=False, found="rename"),
    ),
    ("adopt-unnamed", inp(A, BARE_X, B), RULE_X, inp(A, X, B), dict(found="adopt")),
    # unnamed rules: identified by their canonical match
    ("unnamed-new", inp(A), RULE_DNS, inp(A, DNS), dict(found=None)),
    ("unnamed-present", inp(DNS, A), RULE_DNS, inp(DNS, A), dict(found="match")),
    # absent, by name and by match (their twins: absent when absent is ok)
    ("absent-by-name", inp(A, X, B), {"name": "x", "state": "absent"}, inp(A, B), {}),
    ("absent-by-match", inp(A, DNS, B), {**RULE_DNS, "state": "absent"}, inp(A, B), {}),
    # families
    (
        "ipv4-only",
        inp(A),
        {**RULE_X, "ip_version": "ipv4"},
        {"ipv4": inp(A, X), "ipv6": inp(A)},
        {},
    ),
    ("source-list", inp(A), RULE_SSH, {"ipv4": inp(A, SSH4), "ipv6": inp(A, SSH6)}, {}),
    (
        "chain-management",
        {},
        {**RULE_X, "chain_management": True},
        inp(X),
        {},
    ),
]
CASES = [(c[0], c[1], {"chain": "@", **c[2]}, c[3], c[4]) for c in CASES]
# A task costs ~0.35 s: every case runs on both variants and both backends (nft with
# restore, legacy with python_iptables); legacy with restore, the same code as nft
# restore on the other variant, runs the cases that move, rename, replace or remove.
SUBSET = {
    "number-moves",
    "before-moves",
    "after-moves",
    "between-moves",
    "before-met",
    "option-change",
    "rename",
    "adopt-unnamed",
    "absent-by-name",
    "ipv4-only",
}
CASES_OF = {
    "nft-restore": CASES,
    "legacy-python_iptables": CASES,
    "legacy-restore": [c for c in CASES if c[0] in SUBSET],
}
assert sorted(CASES_OF) == sorted(COMBO_VALUES)
RUNS = [pytest.param(combo, c, id=f"{combo}-{c[0]}") for combo in CASES_OF for c in CASES_OF[combo]]


@pytest.fixture(scope="module")
def rule_runs(variant_bins, tmp_path_factory):
    return run_combos(
        variant_bins,
        tmp_path_factory.mktemp("rule"),
        lambda combo: case_tasks(CASES_OF[combo], "rule", COMBO_VALUES[combo][1]),
    )


@pytest.mark.parametrize(("combo", "case"), RUNS)
def test_rule_case(rule_runs, combo, case):
    check_case(rule_runs[combo], case, combo, **case[4])


@pytest.mark.parametrize("combo", list(COMBO_VALUES))
def test_rule_cases_touch_nothing_else(rule_runs, combo):
    check_whole_table(rule_runs[combo], CASES_OF[combo])


# --------------------------------------------------------------------- bad input

BAD_BASE = table_text({"INPUT": [A, B], "HOSTFW-X": []})
# (task name, args, words the message must contain)
BAD = [
    ("position word", {**RULE_X, "position": "middle"}, ["'x'", "position", "middle"]),
    ("position zero", {**RULE_X, "position": 0}, ["'x'", "position"]),
    ("position boolean", {**RULE_X, "position": True}, ["'x'", "position"]),
    ("number with before", {**RULE_X, "position": 2, "before": "a"}, ["'x'", "position"]),
    ("before itself", {**RULE_X, "before": "x"}, ["'x'", "before"]),
    ("after itself", {**RULE_X, "after": "x"}, ["'x'", "after"]),
    ("before and after contradict", {**RULE_X, "before": "a", "after": "b"}, ["before", "after"]),
    ("before not a name", {**RULE_X, "before": "two words"}, ["'x'", "before"]),
    (
        "unknown key",
        {**{k: v for k, v in RULE_X.items() if k != "destination_port"}, "destination_prot": 9},
        ["destination_prot", "destination_port"],
    ),
    ("invalid address", {**RULE_X, "source": "192.0.2.300"}, ["'x'", "source", "192.0.2.300"]),
    ("jump and goto", {**RULE_X, "goto": "HOSTFW-X"}, ["'x'", "jump", "goto"]),
    ("chain too long", {**RULE_X, "chain": "HOSTFW-" + "L" * 22}, ["HOSTFW-" + "L" * 22, "name"]),
    ("missing chain", {**RULE_X, "chain": "HOSTFW-NONE"}, ["HOSTFW-NONE", "chain_management"]),
    ("jump to missing chain", {**RULE_X, "jump": "HOSTFW-NONE"}, ["'x'", "jump", "HOSTFW-NONE"]),
    ("unknown table", {**RULE_X, "table": "filtre"}, ["table", "filtre"]),
]


@pytest.mark.parametrize("backend", ["restore"])
def test_rule_bad_input_fails_and_touches_nothing(netns, run_playbook, backend):
    tasks = [load_task("load", {fam: BAD_BASE for fam in FAMILIES})]
    tasks += [
        mtask("rule", name, {"chain": "INPUT", **args, "backend": backend})
        for name, args, _w in BAD
    ]
    tasks.append(save_task("after"))
    res = by_name(run_playbook(netns, tasks))
    errors = []
    for name, _args, words in BAD:
        try:
            check_failed(res, name, words)
        except AssertionError as e:
            errors.append(str(e))
    assert recorded(res["after"]) == recorded(res["load"]), "bad input changed the host"
    assert not errors, "\n".join(errors)


def test_rule_check_mode_warns_about_missing_chains(netns, run_playbook):
    """In check mode a missing chain or jump target may come from an earlier task:
    a warning, the plan reported, the host untouched."""
    tasks = [
        load_task("load", {fam: BAD_BASE for fam in FAMILIES}),
        mtask("rule", "missing chain", {**RULE_X, "chain": "HOSTFW-LATER"}, _check_mode=True),
        mtask(
            "rule",
            "missing target",
            {**RULE_X, "chain": "INPUT", "jump": "HOSTFW-LATER"},
            _check_mode=True,
        ),
        save_task("after"),
    ]
    res = by_name(run_playbook(netns, tasks))
    for name in ("missing chain", "missing target"):
        r = res[name]
        assert r["failed"] is False, r
        assert r["changed"] is True, r
        assert sorted(r["commands"]) == sorted(FAMILIES)
        warnings = " ".join(r.get("warnings") or [])
        assert "HOSTFW-LATER" in warnings, (name, warnings)
    assert recorded(res["after"]) == recorded(res["load"])


# --------------------------------------------------------------------- real packets

PORT = 8080
ALLOW = {"name": "allow", "chain": "INPUT", "protocol": "tcp", "destination_port": PORT}
BLOCK = {**ALLOW, "name": "block", "jump": "DROP"}


@pytest.mark.parametrize("backend", ["restore"])
def test_moved_rule_changes_what_passes(netpair, run_playbook, variant, backend):
    """A DROP kept before the ACCEPT by `before:` makes the port time out; the same
    rule with `after:` is moved behind it, and the port answers again."""
    server, client = netpair

    def rule(name, args):
        return mtask("rule", name, {**args, "backend": backend})

    with contextlib.ExitStack() as stack:
        for fam in FAMILIES:
            stack.enter_context(server.listen(PORT, fam))
        for fam in FAMILIES:
            client.assert_reachable(server.addr(fam), PORT)

        res = by_name(
            run_playbook(
                server,
                [
                    rule("allow", {**ALLOW, "jump": "ACCEPT"}),
                    rule("block before", {**BLOCK, "before": "allow"}),
                    rule("block before again", {**BLOCK, "before": "allow"}),
                ],
            )
        )
        assert not any(r["failed"] for r in res.values()), res
        assert res["block before"]["changed"] is True
        assert res["block before again"]["changed"] is False
        for fam in FAMILIES:
            rules = chains(server.save(fam))["INPUT"][1]
            assert [r.split('"')[1] for r in rules] == ["hostfw:block", "hostfw:allow"], rules
            client.assert_blocked(server.addr(fam), PORT)

        res = by_name(
            run_playbook(
                server,
                [
                    rule("block after", {**BLOCK, "after": "allow"}),
                    rule("block after again", {**BLOCK, "after": "allow"}),
                ],
            )
        )
        assert not any(r["failed"] for r in res.values()), res
        assert res["block after"]["changed"] is True and res["block after"]["moved"] is True
        assert res["block after again"]["changed"] is False
        assert res["block after again"]["moved"] is False
        for fam in FAMILIES:
            rules = chains(server.save(fam))["INPUT"][1]
            assert [r.split('"')[1] for r in rules] == ["hostfw:allow", "hostfw:block"], rules
            client.assert_reachable(server.addr(fam), PORT)
