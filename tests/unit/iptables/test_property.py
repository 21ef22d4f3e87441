"""Property tests (hypothesis) over generated rules of the vocabulary
(tests/fixtures/rule_strategies.py), pure: compile -> render_table -> parse_save ->
rule_to_config -> compile gives the same tokens, and the gathered config
(tables_to_config) compiles back to them. The kernel's answer for the same rules:
tests/kernel/iptables/test_property.py."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import gather as GATHER
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.tests.fixtures.rule_strategies import (
    BOTH,
    USER_CHAIN,
    compiled,
    rules,
)


def one_chain_table(chain, rules):
    table = SAVE.Table.empty("filter")
    if chain not in table.chains:
        table.chains[chain] = SAVE.Chain(chain)
    table.chains[chain].rules = list(rules)
    if USER_CHAIN not in table.chains:
        table.chains[USER_CHAIN] = SAVE.Chain(USER_CHAIN)
    return table


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=rules())
def test_pure_round_trip(rule):
    d, chain = rule
    got = compiled(d, chain)
    assert len(got) >= 1, "a consistent rule compiled to no kernel rule: %r" % (d,)
    states = {}
    for fam in BOTH:
        mine = [r for f, r in got if f == fam]
        text = SAVE.render_table(one_chain_table(chain, mine))
        parsed = SAVE.parse_save(text)
        states[fam] = parsed
        back = parsed["filter"].chains[chain].rules
        assert [r.tokens for r in back] == [r.tokens for r in mine]
        for orig, r in zip(mine, back, strict=True):
            assert (r.name, r.comment, r.target, r.goto) == (
                orig.name,
                orig.comment,
                orig.target,
                orig.goto,
            )
            data = GATHER.rule_to_config(r, fam, "filter", chain)
            assert "raw" not in data, "our own rule gathered as raw: %r from %r" % (data, d)
            again = RULE.compile_rule(data, (fam,), "filter", chain, 1)
            assert [(f, x.tokens) for f, x in again] == [(fam, r.tokens)]
    # the gathered config of both families compiles back to the same rules
    config = GATHER.tables_to_config(states)
    desired = CONFIG.compile_config(config, BOTH)
    for fam in BOTH:
        want = [r.tokens for f, r in got if f == fam]
        assert [r.tokens for r in desired[(fam, "filter")][chain].rules] == want


@settings(max_examples=200, deadline=None)
@given(rule=rules())
def test_pure_compile_is_deterministic_and_text_round_trips(rule):
    d, chain = rule
    first = compiled(d, chain)
    assert [(f, r.tokens) for f, r in first] == [(f, r.tokens) for f, r in compiled(dict(d), chain)]
    for _f, r in first:
        assert tuple(TOK.tokenize(TOK.render_tokens(r.tokens))) == r.tokens


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.tuples(rules(), st.sampled_from(["ipv4", "ipv6", "both"])), max_size=8),
    numeric_icmp=st.sampled_from([None, "42", "200/3"]),
)
def test_pure_gathered_families_merge_back(picks, numeric_icmp):
    """Different rule lists per family in one chain: tables_to_config merges what
    means the same in both, and the config compiles back to each family's list."""
    chain = "HOSTFW-T"
    lists = {"ipv4": [], "ipv6": []}
    names = set()
    for (d, _c), fams in picks:
        if d.get("name") in names:
            continue  # names are unique within a chain
        names.add(d.get("name"))
        for fam, r in RULE.compile_rule(d, BOTH, "filter", chain, 1):
            if fams in (fam, "both"):
                lists[fam].append(r)
    if numeric_icmp:  # the same unnamed ICMP type number in both families
        for fam in BOTH:
            rule = {"icmp_type": numeric_icmp, "ip_version": fam, "jump": "ACCEPT"}
            lists[fam] += [r for _f, r in RULE.compile_rule(rule, BOTH, "filter", chain, 1)]
    states = {fam: {"filter": one_chain_table(chain, lists[fam])} for fam in BOTH}
    desired = CONFIG.compile_config(GATHER.tables_to_config(states), BOTH)
    for fam in BOTH:
        assert [r.tokens for r in desired[(fam, "filter")][chain].rules] == [
            r.tokens for r in lists[fam]
        ]
