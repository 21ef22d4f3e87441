"""The chain-level forms of hostfw.netfilter.rule that ansible.builtin.iptables
tasks use (policy, flush, chain_management without a rule, refused NAT/mangle
parameters: _plan/migration.py), and rules on ipsets against the host's sets
(_plan/sets.py, RuleTask.use_sets). The kernel side is
tests/integration/test_migration.py."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._host import ipsets
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import parse_save
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import migration as MG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import sets as SETS
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import tasks as TASKS
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import ANY_FAMILY
from ansible_collections.hostfw.netfilter.plugins.modules import rule as RULE_MODULE

BOTH = ("ipv4", "ipv6")


# ---------------------------------------------------------------- the task's forms


def params(**kw):
    p = {k: v.get("default") for k, v in RULE_MODULE.argument_spec().items()}
    p.update(kw)
    return p


def form(**kw):
    p = params(**kw)
    data = {k: p[k] for k in TASKS.RULE_OPTIONS if p.get(k) is not None}
    return MG.form_of(p, data)


@pytest.mark.parametrize(
    "kw,expected",
    [
        (dict(chain="INPUT", jump="ACCEPT"), MG.RULE),
        (dict(chain="INPUT", policy="DROP"), MG.POLICY),
        (dict(chain="INPUT", flush=True), MG.FLUSH),
        (dict(flush=True), MG.FLUSH),
        (dict(chain="ALLOW", chain_management=True), MG.CHAIN),
        (dict(chain="ALLOW", chain_management=True, state="absent"), MG.CHAIN),
        (dict(chain="ALLOW"), MG.NONE),
        (dict(chain="ALLOW", syn="ignore", match=[]), MG.NONE),
        (dict(chain="ALLOW", name="x"), MG.RULE),
    ],
)
def test_form_of_the_task(kw, expected):
    assert form(**kw) == expected


@pytest.mark.parametrize(
    "kw,key",
    [
        (dict(chain="INPUT", policy="DROP", jump="ACCEPT"), "policy"),
        (dict(chain="INPUT", flush=True, protocol="tcp"), "flush"),
        (dict(chain="INPUT", flush=True, policy="DROP"), "flush"),
        (dict(chain="INPUT", policy="DROP", state="absent"), "policy"),
        (dict(chain="USER", policy="DROP"), "policy"),
        (dict(jump="ACCEPT"), "chain"),
        (dict(chain="INPUT", to_ports="8080"), "to_ports"),
        (dict(chain="INPUT", to_source="192.0.2.1"), "to_source"),
        (dict(chain="INPUT", to_destination="192.0.2.1"), "to_destination"),
        (dict(chain="INPUT", set_dscp_mark="10", jump="DSCP"), "set_dscp_mark"),
        (dict(chain="INPUT", set_dscp_mark_class="CS1"), "set_dscp_mark_class"),
        (dict(chain="INPUT", gateway="192.0.2.1", jump="TEE"), "gateway"),
        (dict(chain="INPUT", jump="TEE"), "jump"),
    ],
)
def test_form_of_refuses_naming_the_key(kw, key):
    with pytest.raises(RuleError) as e:
        form(**kw)
    assert "key '%s'" % key in str(e.value)


def test_nat_parameters_say_to_keep_the_builtin_module():
    with pytest.raises(RuleError) as e:
        form(chain="PREROUTING", table="nat", to_ports="8080")
    assert "keep ansible.builtin.iptables" in str(e.value)


HOST = parse_save(
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    ":EMPTY - [0:0]\n:FULL - [0:0]\n-A INPUT -j FULL\n-A FULL -j DROP\n"
    "-A OUTPUT -p udp -m udp --dport 53 -j ACCEPT\nCOMMIT\n"
)["filter"]


def chain_plan(**kw):
    p = params(**kw)
    return MG.chain_plan(form(**kw), p, HOST, "ipv4")


def rule_count(table):
    return {n: len(c.rules) for n, c in table.chains.items()}


def test_flush_without_a_chain_empties_every_chain_and_keeps_them():
    after = chain_plan(flush=True)
    assert rule_count(after) == {n: 0 for n in HOST.chains}


def test_flush_of_one_chain_leaves_the_others():
    after = chain_plan(chain="OUTPUT", flush=True)
    assert rule_count(after) == dict(rule_count(HOST), OUTPUT=0)


def test_policy_changes_only_the_policy():
    after = chain_plan(chain="FORWARD", policy="DROP")
    assert after.chains["FORWARD"].policy == "DROP"
    assert rule_count(after) == rule_count(HOST)


def test_chain_management_creates_only_the_chain():
    after = chain_plan(chain="NEWC", chain_management=True)
    assert after.chains["NEWC"].rules == [] and rule_count(after) == dict(rule_count(HOST), NEWC=0)


def test_chain_management_absent_deletes_an_empty_chain_only():
    after = chain_plan(chain="EMPTY", chain_management=True, state="absent")
    assert "EMPTY" not in after.chains and "FULL" in after.chains
    with pytest.raises(RuleError) as e:
        chain_plan(chain="FULL", chain_management=True, state="absent")
    assert "key 'chain_management'" in str(e.value) and "1 rule," in str(e.value)


def test_none_form_changes_nothing_and_says_why():
    assert rule_count(chain_plan(chain="GONE")) == rule_count(HOST)
    assert "chain_management: true" in MG.chain_warning(MG.NONE, params(chain="GONE"))


def test_rule_task_with_only_chain_management_adds_no_rule():
    task = TASKS.RuleTask(params(chain="ALLOW", chain_management=True), BOTH)
    plans = task.plan({"ipv4": {"filter": HOST}, "ipv6": {}})
    assert [(o.kind, o.chain) for p in plans for o in p.ops] == [
        ("new_chain", "ALLOW"),
        ("new_chain", "ALLOW"),
    ]
    assert task.report()["rule"] == {}


def test_flush_of_a_missing_chain_fails_the_run_and_warns_in_check_mode():
    with pytest.raises(RuleError, match="chain NOPE does not exist"):
        TASKS.RuleTask(params(chain="NOPE", flush=True), ("ipv4",)).plan({"ipv4": {}})
    task = TASKS.RuleTask(params(chain="NOPE", flush=True), ("ipv4",), check_mode=True)
    [plan] = task.plan({"ipv4": {}})
    assert any("NOPE does not exist" in w for w in plan.warnings)


# ---------------------------------------------------------------- ipsets

IPSET_LIST = """Name: allow4
Type: hash:net
Revision: 7
Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1f2e3d4c
Size in memory: 456
References: 0
Number of entries: 0
Name: allow6
Type: hash:ip
Revision: 6
Header: family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x5a6b7c8d
Size in memory: 224
References: 1
Number of entries: 0
Name: both
Type: list:set
Revision: 3
Header: size 8
Size in memory: 88
References: 0
Number of entries: 0
"""


def test_ipset_headers_give_each_set_its_family():
    assert ipsets.parse(IPSET_LIST) == {"allow4": "ipv4", "allow6": "ipv6", "both": ANY_FAMILY}
    assert ipsets.parse("") == {}


SETS_HOST = ipsets.parse(IPSET_LIST)


def set_task(name, check_mode=False, **kw):
    p = params(chain="INPUT", match_set=name, match_set_flags="src", jump="ACCEPT", **kw)
    families = BOTH if p["ip_version"] == "both" else (p["ip_version"],)
    task = TASKS.RuleTask(p, families, check_mode)
    task.use_sets(SETS_HOST)
    return task


@pytest.mark.parametrize(
    "name,families", [("allow4", ["ipv4"]), ("allow6", ["ipv6"]), ("both", ["ipv4", "ipv6"])]
)
def test_the_set_decides_the_rules_family_under_ip_version_both(name, families):
    task = set_task(name)
    assert [f for f in BOTH if task.groups[f]] == families


def test_an_explicit_family_against_the_sets_family_is_refused():
    with pytest.raises(RuleError, match="key 'match_set': the ipset allow4 holds ipv4"):
        set_task("allow4", ip_version="ipv6")


def test_a_missing_set_fails_the_run_and_warns_in_check_mode():
    with pytest.raises(RuleError, match="ipset nope does not exist"):
        set_task("nope")
    task = set_task("nope", check_mode=True)
    assert any("nope does not exist" in w for w in task.warnings)
    set_task("nope", state="absent")  # nothing to remove: not an error


def test_unknown_sets_change_nothing():
    p = params(chain="INPUT", match_set="x", match_set_flags="src")
    task = TASKS.RuleTask(p, BOTH)
    task.use_sets(None)
    assert all(task.groups.values())


def desired(rule, families=BOTH):
    from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.config import (
        compile_config,
    )

    config = [{"table": "filter", "chains": [{"name": "INPUT", "rules": [rule]}]}]
    return compile_config(config, families)


SET_RULE = {"name": "allow", "match_set": "allow4", "match_set_flags": "src", "jump": "ACCEPT"}


def test_a_config_rule_on_a_set_of_one_family_must_say_so():
    with pytest.raises(RuleError) as e:
        SETS.check_desired(desired(SET_RULE), SETS_HOST, False)
    msg = str(e.value)
    assert "rule 'allow' (ipv6)" in msg and "key 'match_set'" in msg and "ip_version: ipv4" in msg
    assert SETS.check_desired(desired(dict(SET_RULE, ip_version="ipv4")), SETS_HOST, False) == []
    assert SETS.desired_names(desired(SET_RULE)) == ["allow4"]


def test_a_config_rule_on_a_missing_set_fails_the_run_and_warns_in_check_mode():
    rule = dict(SET_RULE, match_set="nope", ip_version="ipv4")
    with pytest.raises(RuleError, match="ipset nope does not exist"):
        SETS.check_desired(desired(rule), SETS_HOST, False)
    [warning] = SETS.check_desired(desired(rule), SETS_HOST, True)
    assert "planned as if" in warning
