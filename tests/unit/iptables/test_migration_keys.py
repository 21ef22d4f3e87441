"""ansible.builtin.iptables' forms of the rule keys (ctstate as one string, the
state match, LOG implied by the log options) and rules recognised whatever the
order of their match modules (Rule.shape). The kernel side is
tests/integration/test_migration.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.gather import (
    rule_to_config,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import (
    compile_rule,
    rule_from_tokens,
    shape_of,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import tokenize
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.placement import (
    place,
    remove,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

BOTH = ("ipv4", "ipv6")


def texts(data, families=("ipv4",), chain="INPUT"):
    return [r.text() for _f, r in compile_rule(data, families, "filter", chain, None)]


def fails(data, key, families=("ipv4",)):
    with pytest.raises(RuleError) as e:
        compile_rule(data, families, "filter", "INPUT", None)
    assert "key '%s'" % key in str(e.value), str(e.value)
    return str(e.value)


# ---------------------------------------------------------------- rule keys


@pytest.mark.parametrize(
    "value", ["ESTABLISHED,RELATED", "established, related", ["ESTABLISHED", "RELATED"]]
)
def test_ctstate_takes_a_comma_separated_string_like_a_list(value):
    assert texts({"ctstate": value, "jump": "ACCEPT"}) == [
        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    ]


def test_ctstate_names_the_unknown_state_inside_a_string():
    assert "'BOGUS'" in fails({"ctstate": "NEW,BOGUS"}, "ctstate")


def test_match_state_writes_the_state_match_and_reads_back_to_it():
    data = {"protocol": "tcp", "destination_port": 22, "match": ["state"], "ctstate": "NEW"}
    [rule] = [r for _f, r in compile_rule(data, ("ipv4",), "filter", "INPUT", None)]
    assert rule.text() == "-p tcp -m tcp --dport 22 -m state --state NEW"
    back = rule_to_config(rule, "ipv4", "filter", "INPUT")
    assert back["match"] == ["state"] and back["ctstate"] == ["NEW"]
    assert texts(back) == [rule.text()]


def test_conntrack_wins_when_both_matches_are_named():
    data = {"match": ["state", "conntrack"], "ctstate": ["NEW"]}
    assert texts(data) == ["-m conntrack --ctstate NEW"]


def test_state_match_refuses_states_only_conntrack_knows():
    assert "SNAT" in fails({"match": "state", "ctstate": "SNAT"}, "ctstate")


@pytest.mark.parametrize("key,value", [("log_prefix", "drop: "), ("log_level", "warning")])
def test_log_options_imply_the_log_target(key, value):
    [text] = texts({key: value})
    assert " -j LOG " in " " + text + " ", text


def test_log_options_with_another_target_are_refused():
    fails({"log_prefix": "x", "jump": "ACCEPT"}, "log_prefix")
    fails({"log_level": 4, "goto": "CHAIN_X"}, "log_level")


# ---------------------------------------------------------------- rules in another order

BUILTIN_ORDER = (
    "-s 192.0.2.0/24 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW "
    "-m iprange --src-range 192.0.2.1-192.0.2.9 -m comment --comment web -j ACCEPT"
)


def rule(text):
    return rule_from_tokens(tuple(tokenize(text)))


def ours():
    data = {
        "source": "192.0.2.0/24",
        "protocol": "tcp",
        "destination_ports": [80, 443],
        "ctstate": "NEW",
        "src_range": "192.0.2.1-192.0.2.9",
        "comment": "web",
        "jump": "ACCEPT",
    }
    return [r for _f, r in compile_rule(data, ("ipv4",), "filter", "INPUT", None)]


def test_the_same_matches_in_another_order_have_one_shape():
    [mine] = ours()
    theirs = rule(BUILTIN_ORDER)
    assert mine.tokens != theirs.tokens and mine.shape == theirs.shape


def test_shape_keeps_option_values_that_look_like_flags():
    a = rule('-m comment --comment "-j X -m y" -j LOG --log-prefix "-m z"')
    b = rule('-m comment --comment "-j X" -m y -j LOG --log-prefix "-m z"')
    assert a.shape != b.shape
    assert a.shape[1] == (("-m", "comment", "--comment", "-j X -m y"),)


def test_an_unnamed_rule_written_in_another_order_is_found_and_kept_as_written():
    chain = [rule("-j DROP"), rule(BUILTIN_ORDER)]
    placed = place(chain, ours(), None)
    assert placed.found == "match" and not placed.moved
    assert [r.text() for r in placed.rules] == [r.text() for r in chain]


def test_absent_removes_the_rule_written_in_another_order():
    assert [r.text() for r in remove([rule(BUILTIN_ORDER), rule("-j DROP")], ours(), None)] == [
        "-j DROP"
    ]


CHUNKS = [
    "-m tcp --dport 22",
    "-m conntrack --ctstate NEW",
    "-m limit --limit 3/min",
    '-m comment --comment "a -m b"',
    "-m set --match-set s src",
    "-m owner ! --uid-owner 0",
]


@settings(max_examples=60, deadline=None)
@given(st.permutations(CHUNKS), st.permutations(CHUNKS), st.integers(1, len(CHUNKS)))
def test_shape_ignores_only_the_order_of_match_chunks(p1, p2, n):
    a = rule("-p tcp " + " ".join(p1[:n]) + " -j ACCEPT")
    b = rule("-p tcp " + " ".join(p2[:n]) + " -j ACCEPT")
    assert (a.shape == b.shape) == (sorted(p1[:n]) == sorted(p2[:n]))
    assert shape_of(a.tokens) != shape_of(tuple(tokenize("-p udp " + " ".join(p1[:n]))))


def test_a_named_port_match_is_kept_without_options_and_read_back():
    [rule] = [
        r
        for _f, r in compile_rule(
            {"protocol": "udp", "match": ["udp"]}, ("ipv4",), "filter", "INPUT", None
        )
    ]
    assert rule.text() == "-p udp -m udp"
    assert rule_to_config(rule, "ipv4", "filter", "INPUT") == {"protocol": "udp", "match": ["udp"]}
    # with a port, the match is there anyway; for another protocol it is not the port match
    assert texts({"protocol": "tcp", "match": "tcp", "destination_port": 22}) == [
        "-p tcp -m tcp --dport 22"
    ]
    assert texts({"protocol": "udp", "match": ["tcp"]}) == ["-p udp"]


def test_a_named_limit_match_has_the_kernels_defaults():
    assert texts({"match": ["limit"], "jump": "ACCEPT"}) == ["-m limit --limit 3/hour -j ACCEPT"]
    assert texts({"match": ["limit"], "limit": "1/second"}) == ["-m limit --limit 1/sec"]


def test_owner_keys_in_one_match_or_one_match_each_are_one_shape():
    one = rule("-m owner --uid-owner 0 --gid-owner 0 -j ACCEPT")
    two = rule("-m owner --uid-owner 0 -m owner --gid-owner 0 -j ACCEPT")
    negated = rule("-m owner ! --uid-owner 0 --gid-owner 0 -j ACCEPT")
    other = rule("-m owner --uid-owner 0 -m owner ! --gid-owner 0 -j ACCEPT")
    assert one.shape == two.shape
    assert negated.shape != other.shape and negated.shape != one.shape


def test_destination_ports_take_one_comma_separated_string():
    data = {"protocol": "tcp", "destination_ports": "80, 443,8000:8080", "jump": "ACCEPT"}
    assert texts(data) == ["-p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT"]
