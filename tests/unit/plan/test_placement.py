"""Placement planning of hostfw.netfilter.rule and the chain operations of
hostfw.netfilter.chain (module_utils/_plan/placement.py and _plan/chains.py), on
plain data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import compile_rule
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import chains as CHAINS
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGNORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import placement as PLACE
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

PORTS = {"a": 21, "b": 22, "c": 23, "d": 24, "e": 25, "x": 99}


def rule(name, port=None, **extra):
    """The ipv4 group of a named (or, with name=None, unnamed) tcp rule."""
    data = {"protocol": "tcp", "destination_port": port or PORTS[name], "jump": "ACCEPT", **extra}
    if name is not None:
        data["name"] = name
    return [r for fam, r in compile_rule(data, ("ipv4",), "filter", "INPUT", None) if fam == "ipv4"]


def chain(*names):
    return [r for n in names for r in rule(n)]


def names(rules):
    return [r.name for r in rules]


# name, chain now, position/before/after, expected order, moved
CASES = [
    # missing rule: where append/prepend/number/before/after put it
    ("x", "abc", {}, "abcx", False),
    ("x", "abc", {"position": "prepend"}, "xabc", False),
    ("x", "abc", {"position": 2}, "axbc", False),
    ("x", "abc", {"position": 9}, "abcx", False),
    ("x", "abc", {"before": "b"}, "axbc", False),
    ("x", "abc", {"after": "b"}, "abxc", False),
    ("x", "abc", {"after": "a", "before": "c"}, "abxc", False),  # right before `before`
    ("x", "", {"position": 3}, "x", False),
    # existing rule: append/prepend never move it
    ("a", "bca", {"position": "prepend"}, "bca", False),
    ("c", "cab", {}, "cab", False),
    # a number is a constraint: moved when elsewhere, kept when there
    ("c", "cab", {"position": 3}, "abc", True),
    ("c", "abc", {"position": 3}, "abc", False),
    ("a", "bca", {"position": 1}, "abc", True),
    ("c", "abc", {"position": 7}, "abc", False),  # beyond the end: last is right
    ("a", "abc", {"position": 7}, "bca", True),
    # before/after: kept when met (even when not adjacent), moved when broken
    ("a", "abc", {"before": "c"}, "abc", False),
    ("c", "abc", {"before": "a"}, "cab", True),
    ("a", "abc", {"after": "c"}, "bca", True),
    ("c", "abc", {"after": "a"}, "abc", False),
    ("b", "abc", {"after": "a", "before": "c"}, "abc", False),
    ("c", "cab", {"after": "a", "before": "b"}, "acb", True),
    # a missing anchor is skipped (and the position applies)
    ("x", "abc", {"before": "zz", "position": "prepend"}, "xabc", False),
    ("c", "cab", {"before": "zz"}, "cab", False),
]


@pytest.mark.parametrize(("name", "now", "how", "want", "moved"), CASES)
def test_place(name, now, how, want, moved):
    how = dict(how)
    position = how.pop("position", "append")
    got = PLACE.place(chain(*now), rule(name), name, position, label="rule", **how)
    assert "".join(names(got.rules)) == want
    assert got.moved is moved
    # the result is a fixed point: placing again changes and moves nothing
    again = PLACE.place(got.rules, rule(name), name, position, label="rule", **how)
    assert [r.tokens for r in again.rules] == [r.tokens for r in got.rules]
    assert again.moved is False


def test_missing_anchor_is_reported():
    got = PLACE.place(chain("a"), rule("x"), "x", before="zz", label="rule 'x'")
    assert got.notes and "'zz'" in got.notes[0] and "before" in got.notes[0]


def test_two_appended_rules_never_trade_places():
    rules = chain("b", "a")  # a was appended after b by hand
    for name in ("a", "b", "a", "b"):
        got = PLACE.place(rules, rule(name), name, "append")
        assert names(got.rules) == ["b", "a"] and not got.moved
        rules = got.rules


def test_changed_options_replace_in_place():
    got = PLACE.place(chain("a", "b", "c"), rule("b", port=8080), "b")
    assert names(got.rules) == ["a", "b", "c"]
    assert "8080" in got.rules[1].tokens and got.found == "name"
    assert not got.moved


def test_expanded_rule_moves_and_shrinks_as_one_group():
    group3 = rule("s", port=22, source=["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    assert names(group3) == ["s#1", "s#2", "s#3"]
    now = chain("a") + group3 + chain("b")
    group2 = rule("s", port=22, source=["192.0.2.1", "192.0.2.9"])
    got = PLACE.place(now, group2, "s", before="a")
    assert names(got.rules) == ["s#1", "s#2", "a", "b"]
    assert got.moved


def test_rename_from_renames_in_place():
    now = chain("a") + rule("old", port=22) + chain("b")
    got = PLACE.place(now, rule("new", port=22), "new", rename_from="old")
    assert names(got.rules) == ["a", "new", "b"] and got.found == "rename"
    # second run: found by its new name, rename_from is not looked at
    again = PLACE.place(got.rules, rule("new", port=22), "new", rename_from="old")
    assert again.found == "name" and names(again.rules) == ["a", "new", "b"]


def test_unnamed_rule_with_the_same_match_is_adopted():
    now = chain("a") + rule(None, port=22) + chain("b")
    got = PLACE.place(now, rule("ssh", port=22), "ssh")
    assert names(got.rules) == ["a", "ssh", "b"] and got.found == "adopt"


def test_named_rule_of_another_name_is_not_adopted():
    now = chain("a") + rule("other", port=22)
    got = PLACE.place(now, rule("ssh", port=22), "ssh")
    assert names(got.rules) == ["a", "other", "ssh"] and got.found is None


def test_unnamed_rule_is_found_by_match():
    now = rule(None, port=22) + chain("a")
    got = PLACE.place(now, rule(None, port=22), None, before="zz")
    assert [r.tokens for r in got.rules] == [r.tokens for r in now]
    assert got.found == "match"
    got = PLACE.place(now, rule(None, port=22), None, after="a")
    assert names(got.rules) == ["a", None] and got.moved


def test_rule_for_no_family_here_removes_named_copies():
    got = PLACE.place(chain("a", "b"), [], "b")
    assert names(got.rules) == ["a"]
    got = PLACE.place(chain("a", "b"), [], None)
    assert names(got.rules) == ["a", "b"]


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"position": 2, "before": "a"}, "position"),
        ({"before": "x"}, "before"),
        ({"after": "x"}, "after"),
        ({"before": "a", "after": "c"}, "before"),
    ],
)
def test_bad_placement_names_the_key(kwargs, key):
    kwargs = dict(kwargs)
    position = kwargs.pop("position", "append")
    with pytest.raises(RuleError, match="rule 'x'.*keys? '%s" % key):
        PLACE.place(chain("a", "b", "c"), rule("x"), "x", position, label="rule 'x'", **kwargs)


@pytest.mark.parametrize(
    ("value", "want"),
    [("append", "append"), ("Prepend", "prepend"), (3, 3), ("3", 3), (" 12 ", 12)],
)
def test_parse_position(value, want):
    assert PLACE.parse_position(value) == want


@pytest.mark.parametrize("value", [0, -1, "0", "first", "", None, True, 1.5, [1]])
def test_parse_position_rejects(value):
    with pytest.raises(RuleError, match="key 'position'"):
        PLACE.parse_position(value)


@pytest.mark.parametrize(
    ("now", "name", "gone"),
    [("abc", "b", "ac"), ("abc", "x", "abc"), ("", "a", "")],
)
def test_remove_by_name(now, name, gone):
    assert "".join(names(PLACE.remove(chain(*now), rule(name), name))) == gone


def test_remove_by_match_takes_every_equal_rule_only():
    now = rule(None, port=22) + chain("a") + rule(None, port=22) + rule(None, port=23)
    got = PLACE.remove(now, rule(None, port=22), None)
    assert [r.name for r in got] == ["a", None]
    assert "23" in got[1].tokens


# ------------------------------------------------------------------ chains


def table(text):
    head = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    return SAVE.parse_save(head + text + "COMMIT\n")["filter"]


FILTER = table(
    ":WEB - [0:0]\n:f2b-sshd - [0:0]\n"
    "-A INPUT -p tcp -m tcp --dport 22 -j f2b-sshd\n"
    '-A INPUT -p tcp -m tcp --dport 80 -m comment --comment "hostfw:web" -j WEB\n'
    "-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT\n"
    '-A INPUT -p tcp -m tcp --dport 25 -m comment --comment "hostfw:smtp" -j ACCEPT\n'
    "-A FORWARD -j WEB\n"
    "-A WEB -j ACCEPT\n"
)


def render(ops):
    """The operations as iptables-restore lines."""
    return RESTORE.render_ops(ops)


def texts(tbl, name):
    return [r.text() for r in tbl.chains[name].rules]


def test_purge_keeps_our_named_rules_and_ignored_ones():
    after, gone = CHAINS.chain_edit(
        FILTER, "INPUT", "present", purge=True, ignore=IGNORE.Ignore(["^f2b-"])
    )
    assert [r.name for r in after.chains["INPUT"].rules] == [None, "web", "smtp"]
    assert after.chains["INPUT"].rules[0].target == "f2b-sshd"
    assert [r.text() for _c, r in gone] == ["-p tcp -m tcp --dport 23 -j ACCEPT"]
    assert render(OPS.transition(FILTER, after)) == ["-D INPUT -p tcp -m tcp --dport 23 -j ACCEPT"]


def test_purge_without_ignore_removes_the_foreign_jump_too():
    after, gone = CHAINS.chain_edit(
        FILTER, "INPUT", "present", purge=True, ignore=IGNORE.Ignore([])
    )
    assert [r.name for r in after.chains["INPUT"].rules] == ["web", "smtp"]
    assert len(gone) == 2


def test_flush_keeps_only_ignored():
    after, gone = CHAINS.chain_edit(
        FILTER, "INPUT", "present", flush=True, ignore=IGNORE.Ignore(["^f2b-"])
    )
    assert [r.target for r in after.chains["INPUT"].rules] == ["f2b-sshd"]
    assert len(gone) == 3


def test_ignored_chain_is_never_emptied():
    after, gone = CHAINS.chain_edit(
        FILTER, "WEB", "present", flush=True, ignore=IGNORE.Ignore(["^WEB$"])
    )
    assert texts(after, "WEB") == ["-j ACCEPT"] and gone == []


def test_policy_and_create():
    after, _gone = CHAINS.chain_edit(FILTER, "FORWARD", "present", policy="DROP")
    assert render(OPS.transition(FILTER, after)) == ["-P FORWARD DROP"]
    after, _gone = CHAINS.chain_edit(FILTER, "NEW", "present")
    assert render(OPS.transition(FILTER, after)) == ["-N NEW"]
    after, _gone = CHAINS.chain_edit(FILTER, "WEB", "present")
    assert render(OPS.transition(FILTER, after)) == []


def test_delete_refused_while_referenced_names_the_rules():
    with pytest.raises(RuleError) as e:
        CHAINS.chain_edit(FILTER, "WEB", "absent")
    msg = str(e.value)
    assert "INPUT rule 2 ('web')" in msg and "FORWARD rule 1 (-j WEB)" in msg and "force" in msg


def test_delete_with_force_removes_the_jumps_in_one_transaction():
    after, gone = CHAINS.chain_edit(FILTER, "WEB", "absent", force=True)
    assert "WEB" not in after.chains
    assert render(OPS.transition(FILTER, after)) == [
        '-D INPUT -p tcp -m tcp --dport 80 -m comment --comment "hostfw:web" -j WEB',
        "-D FORWARD -j WEB",
        "-F WEB",
        "-X WEB",
    ]
    assert sorted(c for c, _r in gone) == ["FORWARD", "INPUT", "WEB"]


def test_delete_absent_chain_is_a_no_op():
    after, gone = CHAINS.chain_edit(FILTER, "NOPE", "absent")
    assert render(OPS.transition(FILTER, after)) == [] and gone == []


@pytest.mark.parametrize(
    ("name", "kwargs", "key"),
    [
        ("INPUT", {"state": "absent"}, "state"),
        ("WEB", {"state": "present", "policy": "DROP"}, "policy"),
    ],
)
def test_chain_errors_name_the_key(name, kwargs, key):
    kwargs = dict(kwargs)
    state = kwargs.pop("state")
    with pytest.raises(RuleError, match="chain %s: key '%s'" % (name, key)):
        CHAINS.chain_edit(FILTER, name, state, **kwargs)


@pytest.mark.parametrize(
    ("table_name", "name", "key"),
    [
        ("filter", "X" * 29, "name"),
        ("filter", "ACCEPT", "name"),
        ("filter", "-bad", "name"),
        ("filter", "two words", "name"),
        ("filtre", "WEB", "table"),
    ],
)
def test_check_chain_name(table_name, name, key):
    with pytest.raises(RuleError, match="key '%s'" % key):
        CHAINS.check_chain_name(table_name, name)


# ---------------------------------------------------------------- properties

LETTERS = "abcde"


@st.composite
def placements(draw):
    now = draw(st.lists(st.sampled_from(LETTERS), unique=True, max_size=5))
    name = draw(st.sampled_from(LETTERS + "x"))
    kind = draw(st.sampled_from(["append", "prepend", "number", "before", "after", "between"]))
    others = [n for n in LETTERS if n != name]
    how = {}
    if kind == "number":
        how["position"] = draw(st.integers(1, 7))
    elif kind in ("append", "prepend"):
        how["position"] = kind
    if kind in ("before", "between"):
        how["before"] = draw(st.sampled_from(others))
    if kind in ("after", "between"):
        how["after"] = draw(st.sampled_from(others))
    return now, name, how


@given(placements())
def test_placement_meets_its_constraint_and_is_a_fixed_point(case):
    now, name, how = case
    how = dict(how)
    position = how.pop("position", "append")
    try:
        got = PLACE.place(chain(*now), rule(name), name, position, **how)
    except RuleError:
        # only a contradiction is refused: `after` is `before` or sits behind it
        if how["after"] != how["before"]:
            assert now.index(how["after"]) > now.index(how["before"])
        return
    order = names(got.rules)
    assert sorted(order) == sorted(set(now) | {name})
    at = order.index(name)
    if isinstance(position, int):
        assert at == min(position, len(order)) - 1
    if how.get("before") in order:
        assert at < order.index(how["before"])
    if how.get("after") in order:
        assert at > order.index(how["after"])
    if name in now and not got.moved:
        assert order == now  # a rule that meets its constraint stays
    again = PLACE.place(got.rules, rule(name), name, position, **how)
    assert names(again.rules) == order and not again.moved


def test_hold_number_places_a_missing_rule_but_never_moves_one():
    """action: insert + rule_num, as ansible.builtin.iptables does it."""
    got = PLACE.place(chain("a", "b"), rule("x"), "x", 2, hold=True)
    assert names(got.rules) == ["a", "x", "b"]
    got = PLACE.place(chain("x", "a", "b"), rule("x"), "x", 2, hold=True)
    assert names(got.rules) == ["x", "a", "b"] and not got.moved
