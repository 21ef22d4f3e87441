"""ruleset: protect_connection refuses a change that would cut the SSH session the
task runs over (SSH_CONNECTION on the host), and only such a change."""

from __future__ import annotations

import pytest
from ruleset_cases import RESTORE_COMBOS, by_name, chains, recorded, save_task, saves, task

SSH4 = "192.0.2.2 50000 192.0.2.1 22"
SSH6 = "2001:db8::2 50000 2001:db8::1 22"
BASE_RULES = [
    {"name": "loopback", "in_interface": "lo", "jump": "ACCEPT"},
    {"name": "established", "ctstate": ["ESTABLISHED", "RELATED"], "jump": "ACCEPT"},
]
SSH_RULE = {
    "name": "ssh",
    "protocol": "tcp",
    "destination_port": 22,
    "source": ["192.0.2.0/24", "2001:db8::/64"],
    "jump": "ACCEPT",
}


def policy(rules):
    return [{"table": "filter", "chains": [{"name": "INPUT", "policy": "DROP", "rules": rules}]}]


# The classic lock-out: default deny with only loopback and established allowed.
DROPS_SSH = policy(BASE_RULES)
DROPS_SSH_NO_LO = policy(BASE_RULES[1:])
KEEPS_SSH = policy(BASE_RULES + [SSH_RULE])


def guarded(name, config, conn, backend="restore", **kw):
    env = {"SSH_CONNECTION": conn}
    return task("overridden", config, name=name, backend=backend, _environment=env, **kw)


@pytest.mark.parametrize(("variant", "backend"), RESTORE_COMBOS)
def test_protect_connection(netns, run_playbook, variant, backend):
    before = saves(netns)
    tasks = [
        {**guarded("drops ssh v4", DROPS_SSH_NO_LO, SSH4, backend), "ignore_errors": True},
        {**guarded("drops ssh v6", DROPS_SSH_NO_LO, SSH6, backend), "ignore_errors": True},
        {
            **guarded("drops ssh v4, check", DROPS_SSH_NO_LO, SSH4, backend, _check_mode=True),
            "ignore_errors": True,
        },
        save_task("after refusals"),
        guarded("keeps ssh", KEEPS_SSH, SSH4, backend),
        guarded("keeps ssh v6", KEEPS_SSH, SSH6, backend),
        save_task("after keeps ssh"),
        guarded("unprotected", DROPS_SSH_NO_LO, SSH4, backend, protect_connection=False),
    ]
    res = by_name(run_playbook(netns, tasks))
    assert len(res) == len(tasks), list(res)

    for name in ("drops ssh v4", "drops ssh v6", "drops ssh v4, check"):
        r = res[name]
        assert r["failed"] is True, (name, r.get("warnings"), r.get("commands"))
        assert "protect_connection" in r["msg"], (name, r["msg"])
    assert recorded(res["after refusals"]) == before

    assert res["keeps ssh"]["failed"] is False, res["keeps ssh"]
    assert res["keeps ssh"]["changed"] is True
    assert not res["keeps ssh"].get("warnings"), res["keeps ssh"]["warnings"]
    assert res["keeps ssh v6"]["changed"] is False
    kept = recorded(res["after keeps ssh"])
    assert chains(kept["ipv4"])["INPUT"][0] == "DROP"
    assert any("--dport 22" in r and "192.0.2.0/24" in r for r in chains(kept["ipv4"])["INPUT"][1])
    assert any("--dport 22" in r and "2001:db8::/64" in r for r in chains(kept["ipv6"])["INPUT"][1])

    r = res["unprotected"]
    assert r["failed"] is False, r
    assert r["changed"] is True
    final = saves(netns)
    for fam in ("ipv4", "ipv6"):
        policy_, rules = chains(final[fam])["INPUT"]
        assert policy_ == "DROP"
        assert len(rules) == 1 and "ESTABLISHED" in rules[0], rules


def test_protect_connection_with_a_loopback_rule(netns, run_playbook):
    """A loopback rule does not let the SSH session in: 192.0.2.2 -> 192.0.2.1 does
    not arrive on lo. The lock-out must fail, not merely warn."""
    before = saves(netns)
    tasks = [
        {**guarded("drops ssh v4", DROPS_SSH, SSH4), "ignore_errors": True},
        {**guarded("drops ssh v6", DROPS_SSH, SSH6), "ignore_errors": True},
    ]
    res = by_name(run_playbook(netns, tasks))
    after = saves(netns)
    for name in ("drops ssh v4", "drops ssh v6"):
        r = res[name]
        assert r["failed"] is True, (name, r.get("warnings"), r.get("commands"))
        assert "protect_connection" in r["msg"], (name, r["msg"])
    assert after == before
