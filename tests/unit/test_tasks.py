"""The single-object modules' planning as pure tasks (module_utils/_plan/tasks.py),
the counters of rules_info (module_utils/_iptables/counters.py), and the
`config: []` contract of ruleset: no module object, no host."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.counters import (
    with_counters,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import tasks as TASKS
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.modules import rule as RULE_MODULE
from ansible_collections.hostfw.netfilter.plugins.modules import ruleset as RULESET

HOST = SAVE.parse_save(
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    '[3:180] -A INPUT -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh" -j ACCEPT\n'
    "[0:0] -A INPUT -j DROP\nCOMMIT\n"
)


def params(**kw):
    p = {k: v.get("default") for k, v in RULE_MODULE.argument_spec().items()}
    p.update(chain="INPUT", **kw)
    return p


WEB = dict(name="web", protocol="tcp", destination_port=80, jump="ACCEPT")


def test_rule_task_plans_each_family_and_reports():
    task = TASKS.RuleTask(params(position=1, **WEB), ("ipv4", "ipv6"))
    plans = task.plan({"ipv4": HOST, "ipv6": {}})
    assert [p.family for p in plans] == ["ipv4", "ipv6"]
    assert RESTORE.render_ops(plans[0].ops) == [
        '-I INPUT 1 -p tcp -m tcp --dport 80 -m comment --comment "hostfw:web" -j ACCEPT'
    ]
    report = task.report()
    assert report["moved"] is False and report["found"] is None
    assert sorted(report["rule"]) == ["ipv4", "ipv6"]


def test_missing_chain_is_an_error_outside_check_mode_and_a_warning_in_it():
    p = params(**WEB)
    p["chain"] = "HOSTFW-NEW"
    with pytest.raises(RuleError, match=r"chain HOSTFW-NEW does not exist .*chain_management"):
        TASKS.RuleTask(p, ("ipv4",)).plan({"ipv4": HOST})
    (plan,) = TASKS.RuleTask(p, ("ipv4",), check_mode=True).plan({"ipv4": HOST})
    assert plan.changed and "planned as if an earlier task had created it" in plan.warnings[0]


def test_jump_to_a_missing_chain_names_the_key():
    p = params(name="j", jump="HOSTFW-NOPE")
    with pytest.raises(RuleError, match="key 'jump': chain HOSTFW-NOPE does not exist"):
        TASKS.RuleTask(p, ("ipv4",)).plan({"ipv4": HOST})


@pytest.mark.parametrize("number", ["²", "0", -1, True, "x"])
def test_legacy_rule_num_refuses_what_is_not_a_rule_number(number):
    with pytest.raises(RuleError, match="key 'rule_num'"):
        TASKS.RuleTask(params(action="insert", rule_num=number, **WEB), ("ipv4",))


def test_legacy_rule_num_takes_ascii_digits():
    task = TASKS.RuleTask(params(action="insert", rule_num=" 2", **WEB), ("ipv4",))
    assert task.position == 2


def test_nothing_to_do_warning():
    p = params(source="2001:db8::1", jump="ACCEPT")
    assert "applies to no family" in TASKS.RuleTask(p, ("ipv4",)).nothing_to_do()
    assert TASKS.RuleTask(params(**WEB), ("ipv4",)).nothing_to_do() is None


def test_chain_task_validates_before_the_host_is_read():
    base = dict(name="INPUT", table="filter", policy=None, flush=False, purge=False)
    with pytest.raises(RuleError, match="key 'state'"):
        TASKS.ChainTask(dict(base, state="absent", ignore=[], force=False, purge=True), ("ipv4",))
    with pytest.raises(RuleError, match="ignore"):
        TASKS.ChainTask(dict(base, state="present", ignore=["("], force=False), ("ipv4",))


def test_with_counters():
    (entry,) = with_counters({"ipv4": HOST})
    rules = entry["chains"][0]["rules"]
    assert entry["ip_version"] == "ipv4"
    assert [r["counters"] for r in rules] == [
        {"packets": 3, "bytes": 180},
        {"packets": 0, "bytes": 0},
    ]


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, **params):
        self.params = {"src": None, "config": None, "ignore": [], **params}

    def fail_json(self, **kw):
        raise Failed(kw["msg"])


@pytest.mark.parametrize("state", ["merged", "replaced", "overridden"])
def test_ruleset_refuses_an_empty_config(state):
    with pytest.raises(Failed, match="config: state %s needs at least one table entry" % state):
        RULESET._desired(FakeModule(state=state, config=[]), None, ("ipv4",))
    with pytest.raises(Failed, match=r"from src /tmp/c\.json"):
        RULESET._desired(FakeModule(state=state, src="/tmp/c.json"), b"[]", ("ipv4",))


def test_ruleset_deleted_and_rendered_take_an_empty_config():
    for state in ("deleted", "rendered", "gathered"):
        assert RULESET._desired(FakeModule(state=state, config=[]), None, ("ipv4",)) == {}
