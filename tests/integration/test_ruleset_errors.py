"""ruleset: bad input and refusals leave the host byte for byte as it was.

A message names the rule and the key at fault. A rule on a set that does not
exist, or of the wrong family, is judged against the host's ipsets before
anything is applied (check mode judges it the same way) and fails the whole
task: the valid rules of the same task are not applied either, in any family.
python_iptables refuses an nf_tables host.
"""

from __future__ import annotations

import pytest
from ruleset_cases import COMBOS, FAMILIES, by_name, recorded, save_task, saves, task

BASE = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:HOSTFW-X - [0:0]
-A INPUT -i lo -m comment --comment "hostfw:loopback" -j ACCEPT
-A INPUT -p udp -m udp --dport 53 -j ACCEPT
-A HOSTFW-X -m comment --comment "hostfw:x" -j RETURN
COMMIT
"""

OK_RULE = {"name": "web", "protocol": "tcp", "destination_port": 80, "jump": "ACCEPT"}
LONG = "HOSTFW-" + "L" * 22  # 29 characters: one too many
assert len(LONG) == 29


def chain_cfg(chain, rules, **extra):
    return [{"table": "filter", "chains": [{"name": chain, "rules": rules, **extra}]}]


# (task name, config, words the message must contain)
BAD = [
    (
        "unknown key",
        chain_cfg("INPUT", [OK_RULE, {"name": "bad-key", "jump": "ACCEPT", "frobnicate": 1}]),
        ["bad-key", "frobnicate"],
    ),
    (
        "invalid address",
        chain_cfg(
            "INPUT", [OK_RULE, {"name": "bad-addr", "source": "192.0.2.300", "jump": "ACCEPT"}]
        ),
        ["bad-addr", "source", "192.0.2.300"],
    ),
    (
        "jump and goto",
        chain_cfg(
            "INPUT", [{"name": "two-targets", "jump": "ACCEPT", "goto": "HOSTFW-X"}, OK_RULE]
        ),
        ["two-targets", "jump", "goto"],
    ),
    (
        "policy on a user chain",
        chain_cfg("HOSTFW-X", [{"name": "x", "jump": "RETURN"}], policy="DROP"),
        ["HOSTFW-X", "policy"],
    ),
    (
        "chain name of 29 characters",
        chain_cfg(LONG, [{"name": "l", "jump": "RETURN"}]),
        [LONG, "name"],
    ),
    (
        "jump to a missing chain",
        chain_cfg("INPUT", [OK_RULE, {"name": "to-nowhere", "jump": "HOSTFW-NOWHERE"}]),
        ["to-nowhere", "jump", "HOSTFW-NOWHERE"],
    ),
]


# Valid in every respect the module can check; the kernel refuses the set match.
def kernel_rejects(setname):
    return [
        {
            "table": "filter",
            "chains": [
                {
                    "name": "INPUT",
                    "policy": "DROP",
                    "rules": [
                        OK_RULE,
                        {
                            "name": "needs-set",
                            "match_set": setname,
                            "match_set_flags": "src",
                            "jump": "DROP",
                        },
                        {
                            "name": "ssh",
                            "protocol": "tcp",
                            "destination_port": 22,
                            "jump": "ACCEPT",
                        },
                    ],
                },
                {"name": "HOSTFW-NEW", "rules": [{"name": "new", "jump": "ACCEPT"}]},
            ],
        }
    ]


@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_bad_input_fails_and_changes_nothing(netns, run_playbook, variant, backend):
    for fam in FAMILIES:
        netns.restore(BASE, fam)
    before = saves(netns)
    tasks = []
    for name, config, _words in BAD:
        for state in ("merged", "overridden"):
            t = task(state, config, name=f"{name} ({state})", backend=backend)
            tasks.append({**t, "ignore_errors": True})
    tasks += [
        save_task("after bad input"),
        # the positive control: 28 characters is what the kernel allows
        task(
            "merged",
            chain_cfg(LONG[:28], [{"name": "l", "jump": "RETURN"}]),
            name="28 chars",
            backend=backend,
        ),
    ]
    res = by_name(run_playbook(netns, tasks))
    assert len(res) == len(tasks), list(res)

    problems = []
    for name, _config, words in BAD:
        for state in ("merged", "overridden"):
            r = res[f"{name} ({state})"]
            msg = r.get("msg", "")
            if not r["failed"]:
                problems.append(f"{name} ({state}): did not fail: {r.get('commands')}")
            elif missing := [w for w in words if w not in msg]:
                problems.append(f"{name} ({state}): message lacks {missing}: {msg!r}")
    # nothing of any of it reached the host
    assert recorded(res["after bad input"]) == before
    assert res["28 chars"]["failed"] is False, res["28 chars"]
    assert f":{LONG[:28]} - " in netns.save("ipv4")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_kernel_reject_changes_nothing_and_names_the_rule(netns, run_playbook, variant, backend):
    """The kernel refuses a set that does not exist: the valid rules, the new chain
    and the policy of the same task are not applied either."""
    for fam in FAMILIES:
        netns.restore(BASE, fam)
    before = saves(netns)
    t = task("merged", kernel_rejects("hfw-no-such-set"), name="rejected", backend=backend)
    res = by_name(run_playbook(netns, [{**t, "ignore_errors": True}]))["rejected"]
    assert res["failed"] is True, res
    assert saves(netns) == before
    # the kernel's words ("Set ... doesn't exist", "Error occurred at line: 4") are
    # about a transaction the user never wrote: the message must name the rule too
    for word in ("hfw-no-such-set", "needs-set", "key 'match_set'", "does not exist"):
        assert word in res["msg"], (word, res["msg"])


@pytest.mark.parametrize(("variant", "backend"), COMBOS[:1])
def test_check_mode_judges_sets_as_the_run_does(netns, run_playbook, variant, backend):
    """Check mode never predicts success for a run that fails: an IPv4 set under
    both families fails there too (naming the family); a set that does not exist
    yet is a warning (an earlier task of the run may create it)."""
    for fam in FAMILIES:
        netns.restore(BASE, fam)
    netns.run(["ipset", "create", "hfw4", "hash:ip", "family", "inet"])
    before = saves(netns)
    tasks = [
        {**task("merged", kernel_rejects("hfw4"), name="foreign", backend=backend),
         "check_mode": True, "ignore_errors": True},
        {**task("merged", kernel_rejects("hfw-later"), name="later", backend=backend),
         "check_mode": True, "ignore_errors": True},
    ]  # fmt: skip
    res = by_name(run_playbook(netns, tasks))
    assert res["foreign"]["failed"] is True, res["foreign"]
    for word in ("needs-set", "(ipv6)", "hfw4", "holds ipv4 addresses", "ip_version: ipv4"):
        assert word in res["foreign"]["msg"], (word, res["foreign"]["msg"])
    assert res["later"]["failed"] is False and res["later"]["changed"] is True, res["later"]
    assert any("hfw-later does not exist" in w for w in res["later"]["warnings"]), res["later"]
    assert saves(netns) == before


@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_kernel_reject_in_one_family_changes_neither(netns, run_playbook, variant, backend):
    """An IPv4 set: the IPv4 transaction is fine, the kernel refuses the IPv6 one. The
    task fails; the IPv4 rules of the same task must not stay applied (or, at the
    very least, the result must not claim that nothing changed)."""
    for fam in FAMILIES:
        netns.restore(BASE, fam)
    netns.run(["ipset", "create", "hfw4", "hash:ip", "family", "inet"])
    before = saves(netns)
    t = task("merged", kernel_rejects("hfw4"), name="rejected", backend=backend)
    res = by_name(run_playbook(netns, [{**t, "ignore_errors": True}]))["rejected"]
    assert res["failed"] is True, res
    assert "holds ipv4 addresses" in res["msg"], res["msg"]  # judged before the host is touched
    after = saves(netns)
    assert after["ipv6"] == before["ipv6"]
    assert after["ipv4"] == before["ipv4"], (
        f"changed={res.get('changed')}, msg={res['msg']!r}, yet IPv4 now holds:\n{after['ipv4']}"
    )


def test_python_iptables_refuses_on_nf_tables(netns_factory, run_playbook):
    ns = netns_factory("nft")
    for fam in FAMILIES:
        ns.restore(BASE, fam)
    before = saves(ns)
    config = chain_cfg("INPUT", [OK_RULE])
    tasks = [
        {
            **task("merged", config, name="check", backend="python_iptables", _check_mode=True),
            "ignore_errors": True,
        },
        {**task("merged", config, name="apply", backend="python_iptables"), "ignore_errors": True},
        {**task("gathered", name="gather", backend="python_iptables"), "ignore_errors": True},
        task("merged", config, name="auto"),  # the control: the same task with backend auto works
    ]
    res = by_name(run_playbook(ns, tasks))
    for name in ("check", "apply", "gather"):
        r = res[name]
        assert r["failed"] is True, (name, r)
        msg = r["msg"]
        for word in ("python_iptables", "nf_tables", "restore"):
            assert word in msg, (name, word, msg)
    assert res["auto"]["changed"] is True
    assert res["auto"]["backend"] == "restore"
    assert res["auto"]["variant"] == "nf_tables"
    # the legacy kernel tables (what libiptc would have written) stayed empty
    for tool in ("iptables-legacy-save", "ip6tables-legacy-save"):
        assert "-A " not in ns.run([tool]).stdout, tool
    after = saves(ns)
    for fam in FAMILIES:
        added = [line for line in after[fam].splitlines() if line not in before[fam].splitlines()]
        assert added == [
            '-A INPUT -p tcp -m tcp --dport 80 -m comment --comment "hostfw:web" -j ACCEPT'
        ]
