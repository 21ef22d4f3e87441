"""Planning (_plan/states.py): what each state does to the host's tables, and its
idempotence. The exact transition lines: tests/unit/plan/test_operations.py (against
the kernel: tests/kernel/plan/test_operations.py); the SSH guard:
tests/unit/eval/test_guard.py."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGNORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import states as STATES
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import (
    FOREIGN,
    L_A,
    L_B,
    L_C,
    L_D,
    R_A,
    R_B,
    R_C,
    R_D,
    lines,
    lines_of,
    plan1,
    shape,
    table,
)

BOTH = ("ipv4", "ipv6")


def assert_idempotent(current, chains, state, ignore=()):
    first = plan1(current, chains, state, ignore)
    again = plan1(first.after, chains, state, ignore)
    assert lines(again) == [], "second run changes: %r" % lines(again)
    assert shape(again.after) == shape(first.after)
    return first


# ------------------------------------------------------------ merged


def test_merged_adds_missing_after_predecessor_and_keeps_foreign_in_the_middle():
    cur = table("-A INPUT %s\n-A INPUT %s\n-A INPUT %s" % (L_A, FOREIGN, L_C))
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B, R_C, R_D]}], "merged")
    assert lines_of(p.after, "INPUT") == [L_A, L_B, FOREIGN, L_C, L_D]
    assert lines(p) == ["-I INPUT 2 %s" % L_B, "-A INPUT %s" % L_D]
    assert not any(line.startswith(("-D", "-R")) for line in lines(p))


def test_merged_missing_first_rule_goes_before_the_first_present():
    cur = table("-A INPUT %s\n-A INPUT %s" % (FOREIGN, L_B))
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B]}], "merged")
    assert lines_of(p.after, "INPUT") == [FOREIGN, L_A, L_B]
    assert lines(p) == ["-I INPUT 2 %s" % L_A]


def test_merged_never_moves_existing_rules():
    cur = table("-A INPUT %s\n-A INPUT %s" % (L_B, L_A))
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B]}], "merged")
    assert lines(p) == []
    assert lines_of(p.after, "INPUT") == [L_B, L_A]


def test_merged_changed_named_rule_is_one_replace():
    cur = table("-A INPUT %s\n-A INPUT %s\n-A INPUT %s" % (FOREIGN, L_A, L_B))
    changed = dict(R_A, destination_port=2222)
    p = plan1(cur, [{"name": "INPUT", "rules": [changed, R_B]}], "merged")
    want = '-p tcp -m tcp --dport 2222 -m comment --comment "hostfw:a" -j ACCEPT'
    assert lines(p) == ["-D INPUT %s" % L_A, "-I INPUT 2 %s" % want]
    assert lines_of(p.after, "INPUT") == [FOREIGN, want, L_B]


def test_merged_creates_listed_chain_and_policy():
    cur = table("")
    p = plan1(
        cur, [{"name": "INPUT", "policy": "DROP"}, {"name": "HOSTFW-WEB", "rules": [R_B]}], "merged"
    )
    assert lines(p)[0] == "-N HOSTFW-WEB"
    assert "-A HOSTFW-WEB %s" % L_B in lines(p) and lines(p)[-1] == "-P INPUT DROP"
    assert p.after.chains["INPUT"].policy == "DROP"


def test_merged_unnamed_rules_are_matched_by_tokens():
    cur = table("-A INPUT -i lo -j ACCEPT")
    p = plan1(
        cur,
        [
            {
                "name": "INPUT",
                "rules": [
                    {"in_interface": "lo", "jump": "ACCEPT"},
                    {"in_interface": "lo", "jump": "LOG"},
                ],
            }
        ],
        "merged",
    )
    assert lines(p) == ["-A INPUT -i lo -j LOG"]


# ---------------------------------------------------------- replaced


def test_replaced_removes_foreign_in_listed_chain_only():
    cur = table(
        """
        -A INPUT %s
        -A INPUT %s
        -A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
        -A FORWARD %s
        :f2b-sshd - [0:0]
        -A f2b-sshd -j RETURN
        """
        % (FOREIGN, L_A, FOREIGN)
    )
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B]}], "replaced", ignore=["^f2b-"])
    # the ignored jump stays right after the rule of ours it followed
    assert lines_of(p.after, "INPUT") == [L_A, "-p tcp -m multiport --dports 22 -j f2b-sshd", L_B]
    assert lines_of(p.after, "FORWARD") == [FOREIGN]
    assert lines_of(p.after, "f2b-sshd") == ["-j RETURN"]
    assert not any(" FORWARD " in line or "f2b-sshd" in line.split()[1] for line in lines(p))


@pytest.mark.parametrize(
    ("current", "want"),
    [
        # no rule of ours before it: it stays at the top
        (["J", "A"], ["J", "A", "B"]),
        # after A, before B: stays after A, also when B is new
        (["A", "J"], ["A", "J", "B"]),
        (["A", "J", "B"], ["A", "J", "B"]),
        # X is no longer wanted: J follows the last wanted rule before it (A)
        (["A", "X", "J"], ["A", "J", "B"]),
        # two ignored rules keep their order
        (["A", "J", "K", "B"], ["A", "J", "K", "B"]),
        (["K", "A", "J"], ["K", "A", "J", "B"]),
    ],
)
def test_replaced_keeps_ignored_rules_in_place(current, want):
    """replaced with ignore: an ignored rule stays after the wanted rule it follows now."""
    text = {
        "A": L_A,
        "B": L_B,
        "X": "-p tcp -m tcp --dport 7 -m comment --comment hostfw:x -j ACCEPT",
        "J": "-p tcp -m tcp --dport 80 -m comment --comment hostfw:web-jump -j HOSTFW-WEB",
        "K": "-p tcp -m tcp --dport 5432 -m comment --comment hostfw:db-jump -j HOSTFW-DB",
    }
    cur = table(
        ":HOSTFW-WEB - [0:0]\n:HOSTFW-DB - [0:0]\n"
        + "\n".join("-A INPUT %s" % text[k] for k in current)
    )
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B]}], "replaced", ignore=["^HOSTFW-"])
    assert lines_of(p.after, "INPUT") == [
        TOK.render_tokens(tuple(TOK.tokenize(text[k]))) for k in want
    ]
    again = plan1(
        p.after, [{"name": "INPUT", "rules": [R_A, R_B]}], "replaced", ignore=["^HOSTFW-"]
    )
    assert lines(again) == []


def test_replaced_ignored_rule_that_is_also_wanted_is_not_doubled():
    jump = {"name": "to-f2b", "protocol": "tcp", "destination_port": 22, "jump": "f2b-sshd"}
    cur = table(":f2b-sshd - [0:0]\n")
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, jump]}], "replaced", ignore=["^f2b-"])
    again = plan1(p.after, [{"name": "INPUT", "rules": [R_A, jump]}], "replaced", ignore=["^f2b-"])
    assert len(p.after.chains["INPUT"].rules) == 2
    assert lines(again) == []


def test_replaced_sets_exactly_the_listed_policy():
    cur = table("")
    cur.chains["INPUT"].policy = "DROP"
    p = plan1(cur, [{"name": "INPUT", "policy": "ACCEPT", "rules": []}], "replaced")
    assert lines(p) == ["-P INPUT ACCEPT"]


# -------------------------------------------------------- overridden


def overridden_current():
    cur = table(
        """
        :OLD - [0:0]
        :DOCKER - [0:0]
        :HELPER - [0:0]
        -A INPUT %s
        -A INPUT -j OLD
        -A FORWARD -j DOCKER
        -A FORWARD %s
        -A OLD -j DROP
        -A DOCKER -j HELPER
        -A HELPER -j RETURN
        """
        % (FOREIGN, FOREIGN)
    )
    cur.chains["FORWARD"].policy = "DROP"
    return cur


def test_overridden_deletes_unlisted_chains_and_resets_policies():
    p = plan1(
        overridden_current(),
        [{"name": "INPUT", "policy": "DROP", "rules": [R_A]}],
        "overridden",
        ignore=["^DOCKER"],
    )
    after = p.after
    assert "OLD" not in after.chains
    assert after.chains["FORWARD"].policy == "ACCEPT"
    assert lines_of(after, "FORWARD") == ["-j DOCKER"]
    assert lines_of(after, "INPUT") == [L_A]
    assert after.chains["INPUT"].policy == "DROP"
    assert lines_of(after, "DOCKER") == ["-j HELPER"]
    assert "HELPER" in after.chains
    assert any("HELPER" in w for w in p.warnings)
    assert "-F OLD" in lines(p) and "-X OLD" in lines(p)
    assert lines(p).index("-F OLD") < lines(p).index("-X OLD")
    assert not any(line.split()[1] == "DOCKER" for line in lines(p))


def test_overridden_keeps_chain_jumped_to_by_ignored_rule_intact():
    """HELPER is not matched by ignore, but an ignored rule jumps to it: the plan
    keeps it (with a warning), and a kept chain keeps its rules - emptying it would
    break what the ignored rules rely on."""
    p = plan1(
        overridden_current(), [{"name": "INPUT", "rules": [R_A]}], "overridden", ignore=["^DOCKER"]
    )
    assert lines_of(p.after, "HELPER") == ["-j RETURN"]
    assert not any(line.split()[1] == "HELPER" for line in lines(p)), lines(p)


def test_overridden_unlisted_builtin_chain_is_emptied():
    cur = table("-A OUTPUT %s" % FOREIGN)
    p = plan1(cur, [{"name": "INPUT", "rules": []}], "overridden")
    assert lines_of(p.after, "OUTPUT") == []
    assert lines(p) == ["-D OUTPUT %s" % FOREIGN]


# ----------------------------------------------------------- deleted


def test_deleted_by_name_and_by_match():
    cur = table("-A INPUT %s\n-A INPUT %s\n-A INPUT -i lo -j ACCEPT\n-A INPUT %s" % (L_A, L_B, L_C))
    p = plan1(
        cur,
        [
            {
                "name": "INPUT",
                "rules": [{"name": "b", "jump": "DROP"}, {"in_interface": "lo", "jump": "ACCEPT"}],
            }
        ],
        "deleted",
    )
    # the name alone identifies our rule, whatever its options are now
    assert lines_of(p.after, "INPUT") == [L_A, L_C]
    assert lines(p) == ["-D INPUT %s" % L_B, "-D INPUT -i lo -j ACCEPT"]


def test_deleted_chain_removes_jumps_to_it():
    cur = table(
        """
        :HOSTFW-WEB - [0:0]
        -A INPUT %s
        -A INPUT -j HOSTFW-WEB
        -A FORWARD -g HOSTFW-WEB
        -A HOSTFW-WEB %s
        """
        % (L_A, L_B)
    )
    p = plan1(cur, [{"name": "HOSTFW-WEB"}], "deleted")
    assert "HOSTFW-WEB" not in p.after.chains
    assert lines_of(p.after, "INPUT") == [L_A]
    assert lines_of(p.after, "FORWARD") == []
    assert lines(p)[-2:] == ["-F HOSTFW-WEB", "-X HOSTFW-WEB"]


def test_deleted_chain_jumped_to_by_ignored_rule_is_an_error():
    cur = table(":HOSTFW-WEB - [0:0]\n:DOCKER - [0:0]\n-A DOCKER -j HOSTFW-WEB")
    with pytest.raises(RuleError, match="HOSTFW-WEB"):
        plan1(cur, [{"name": "HOSTFW-WEB"}], "deleted", ignore=["^DOCKER"])


def test_deleted_missing_rule_changes_nothing():
    cur = table("-A INPUT %s" % L_A)
    p = plan1(cur, [{"name": "INPUT", "rules": [R_B]}, {"name": "NOPE"}], "deleted")
    assert lines(p) == []


def test_deleted_everything_keeps_ignored():
    cur = table(":f2b-sshd - [0:0]\n-A INPUT %s\n-A INPUT -j f2b-sshd\n-A f2b-sshd -j RETURN" % L_A)
    (p,) = STATES.plan(
        {"ipv4": {"filter": cur}}, {}, "deleted", IGNORE.Ignore(["^f2b-"]), ("ipv4",)
    )
    assert lines_of(p.after, "INPUT") == ["-j f2b-sshd"]
    assert "f2b-sshd" in p.after.chains


# ----------------------------------------------------------- targets


def test_jump_to_missing_chain_is_an_error():
    with pytest.raises(RuleError) as exc:
        plan1(table(""), [{"name": "INPUT", "rules": [{"name": "x", "jump": "NOPE"}]}], "merged")
    msg = str(exc.value)
    assert "NOPE" in msg and "chain INPUT" in msg and "'x'" in msg and "key 'jump'" in msg


def test_goto_to_missing_chain_is_an_error():
    with pytest.raises(RuleError, match="key 'goto'"):
        plan1(table(""), [{"name": "INPUT", "rules": [{"goto": "NOPE"}]}], "replaced")


def test_jump_to_chain_listed_in_config_is_fine():
    p = plan1(
        table(""),
        [{"name": "INPUT", "rules": [{"jump": "HOSTFW-X"}]}, {"name": "HOSTFW-X", "rules": []}],
        "merged",
    )
    assert lines(p) == ["-N HOSTFW-X", "-A INPUT -j HOSTFW-X"]


def test_jump_to_existing_host_chain_is_fine_in_merged():
    cur = table(":EXISTING - [0:0]")
    p = plan1(cur, [{"name": "INPUT", "rules": [{"jump": "EXISTING"}]}], "merged")
    assert lines(p) == ["-A INPUT -j EXISTING"]


# ------------------------------------------------------- idempotence


IDEM_CHAINS = [
    {"name": "INPUT", "policy": "DROP", "rules": [R_A, {"jump": "HOSTFW-WEB"}, R_C]},
    {"name": "HOSTFW-WEB", "rules": [R_B, R_D, {"jump": "RETURN"}]},
]


@pytest.mark.parametrize("state", ["merged", "replaced", "overridden", "deleted"])
@pytest.mark.parametrize("start", ["empty", "busy"])
def test_each_state_is_idempotent(state, start):
    cur = table("") if start == "empty" else overridden_current()
    if start == "busy":
        cur.chains["INPUT"].rules.append(RULE.rule_from_tokens(tuple(TOK.tokenize(L_C))))
    assert_idempotent(cur, IDEM_CHAINS, state, ignore=["^DOCKER"])


def test_plan_over_both_families_and_render_config():
    config = [{"table": "filter", "chains": IDEM_CHAINS}]
    desired = CONFIG.compile_config(config, BOTH)
    plans = STATES.plan({}, desired, "overridden", IGNORE.Ignore([]), BOTH)
    assert sorted(p.family for p in plans) == ["ipv4", "ipv6"]
    current = {p.family: {"filter": p.after} for p in plans}
    again = STATES.plan(current, desired, "overridden", IGNORE.Ignore([]), BOTH)
    assert all(lines(p) == [] for p in again)
    rendered = STATES.render_config(desired)
    for p in plans:
        parsed = SAVE.parse_save(rendered[p.family])["filter"]
        assert shape(parsed) == shape(p.after)


def test_restore_text_is_one_transaction():
    p = plan1(table(""), [{"name": "INPUT", "rules": [R_A]}], "merged")
    assert RESTORE.restore_text([p]) == "*filter\n-A INPUT %s\nCOMMIT\n" % TOK.render_tokens(
        tuple(TOK.tokenize(L_A))
    )
    assert p.changed
