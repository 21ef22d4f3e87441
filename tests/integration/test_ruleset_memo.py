"""ruleset's no-op memo (module_utils/_host/memo.py) against the real kernel.

A run that changes nothing, or a change it applied, is remembered; the next run
with the same task on the same tables answers from the memo (``memo: hit``)
without planning. Anything else - a rule added by hand, another config, another
``ignore`` - is a miss, and the full planner decides.
"""

from __future__ import annotations

import pytest
from ruleset_cases import COMBOS, by_name, saves, task

CONFIG = [
    {
        "table": "filter",
        "chains": [
            {
                "name": "INPUT",
                "policy": "DROP",
                "rules": [
                    {"name": "lo", "in_interface": "lo", "jump": "ACCEPT"},
                    {"name": "ssh", "protocol": "tcp", "destination_port": 22, "jump": "ACCEPT"},
                ],
            },
            {"name": "HOSTFW-WEB", "rules": [{"name": "web", "jump": "ACCEPT"}]},
        ],
    }
]
OTHER = [
    {
        "table": "filter",
        "chains": [
            {
                "name": "INPUT",
                "rules": [
                    {"name": "ssh", "protocol": "tcp", "destination_port": 2222, "jump": "ACCEPT"}
                ],
            }
        ],
    }
]


def shell(name, script):
    return {"name": name, "ansible.builtin.command": {"argv": ["sh", "-c", script]}}


@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_memo_hits_only_on_the_same_task_and_tables(netns, run_playbook, variant, backend):
    def t(name, cfg=None, **kw):
        return task("replaced", cfg or CONFIG, name=name, backend=backend, **kw)

    tasks = [
        t("first"),
        t("again"),
        t("check", _check_mode=True, _diff=True),
        # a rule added by hand: the tables differ, the planner removes it
        shell("by hand", "iptables -A INPUT -p tcp --dport 23 -j ACCEPT"),
        t("after hand"),
        t("settled"),
        # the same tables, another task: a miss that changes nothing
        t("other ignore", ignore=["^f2b-"]),
        t("other ignore again", ignore=["^f2b-"]),
        t("other config", OTHER),
        t("back"),
        t("back again"),
    ]
    res = by_name(run_playbook(netns, tasks, memo=True))
    failed = {k: v.get("msg") for k, v in res.items() if v.get("failed")}
    assert not failed, failed
    want = {
        "first": (True, "miss"),
        "again": (False, "hit"),
        "check": (False, "hit"),
        "after hand": (True, "miss"),
        "settled": (False, "hit"),
        "other ignore": (False, "miss"),
        "other ignore again": (False, "hit"),
        "other config": (True, "miss"),
        "back": (True, "miss"),
        "back again": (False, "hit"),
    }
    got = {k: (res[k]["changed"], res[k].get("memo")) for k in want}
    assert got == want
    # a hit answers as the planner would: same before, no commands, empty diff
    assert res["again"]["before"] == res["first"]["after"]
    assert res["again"]["commands"] == {}
    assert res["check"]["diff"] == [] and res["check"]["commands"] == {}
    assert "validate" not in res["again"]["timings"]
    assert "-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT" not in saves(netns)["ipv4"]


def test_memo_off_never_hits(netns, run_playbook):
    tasks = [task("replaced", CONFIG, name=n) for n in ("first", "again")]
    res = by_name(run_playbook(netns, tasks))  # memo=False: HOSTFW_NETFILTER_CACHE_DIR=""
    assert (res["again"]["changed"], res["again"]["memo"]) == (False, "miss")
    assert "validate" in res["again"]["timings"]
