"""The single-object modules' planning as pure tasks (module_utils/_plan/tasks.py):
no module object, no host."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import tasks as TASKS
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.modules import rule as RULE_MODULE
from ansible_collections.hostfw.netfilter.tests.fixtures.saves import SSH_THEN_DROP

HOST = SAVE.parse_save(SSH_THEN_DROP)


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
