"""ruleset: every changing state, on every (variant, backend), per family scope.

Each case is one playbook run per family scope: check mode (with diff), the
host's saves, apply (with diff), check mode again and apply again. The host starts from a
ruleset that already holds some of the wanted rules, a foreign rule, a stale
rule and chain of ours, and a FORWARD policy, in both families.
"""

from __future__ import annotations

import pytest
from ruleset_cases import (
    COMBOS,
    FAMILIES,
    VARIANT_NAME,
    by_name,
    chains,
    recorded,
    run_parallel,
    save_task,
    saves,
    tables,
    task,
    unquote,
)

OLD_SRC = {"ipv4": "198.51.100.7/32", "ipv6": "2001:db8:1::7/128"}
SSH = {
    "ipv4": '-s 192.0.2.0/24 -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh4" -j ACCEPT',
    "ipv6": '-s 2001:db8::/64 -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh6" -j ACCEPT',
}
PING = {
    "ipv4": '-p icmp -m icmp --icmp-type 8 -m comment --comment "hostfw:ping" -j ACCEPT',
    "ipv6": '-p ipv6-icmp -m icmp6 --icmpv6-type 128 -m comment --comment "hostfw:ping" -j ACCEPT',
}
LO = '-i lo -m comment --comment "hostfw:loopback" -j ACCEPT'
DNS = "-p udp -m udp --dport 53 -j ACCEPT"  # foreign: no name
WEB = '-p tcp -m multiport --dports 80,443 -m comment --comment "hostfw:web" -j HOSTFW-WEB'
WEB_ACCEPT = '-m comment --comment "hostfw:web-accept" -j ACCEPT'
WEB_OLD = '-m comment --comment "hostfw:web-old" -j DROP'
FWD = '-m comment --comment "hostfw:fwd" -j DROP'
OLD_RET = '-m comment --comment "hostfw:old-ret" -j RETURN'


def old(fam):
    return f'-s {OLD_SRC[fam]} -p tcp -m tcp --dport 25 -m comment --comment "hostfw:old" -j HOSTFW-OLD'


def base(fam):
    rules = [
        ("INPUT", LO),
        ("INPUT", DNS),
        ("INPUT", SSH[fam]),
        ("INPUT", old(fam)),
        ("FORWARD", FWD),
        ("HOSTFW-OLD", OLD_RET),
        ("HOSTFW-WEB", WEB_OLD),
    ]
    head = [
        "*filter",
        ":INPUT ACCEPT [0:0]",
        ":FORWARD DROP [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":HOSTFW-OLD - [0:0]",
        ":HOSTFW-WEB - [0:0]",
    ]
    return "\n".join(head + [f"-A {c} {r}" for c, r in rules] + ["COMMIT"]) + "\n"


CONFIG = [
    {
        "table": "filter",
        "chains": [
            {
                "name": "INPUT",
                "policy": "DROP",
                "rules": [
                    {"name": "loopback", "in_interface": "lo", "jump": "ACCEPT"},
                    # IPv4-only and IPv6-only by their addresses
                    {
                        "name": "ssh4",
                        "protocol": "tcp",
                        "destination_port": 22,
                        "source": "192.0.2.0/24",
                        "jump": "ACCEPT",
                    },
                    {
                        "name": "ssh6",
                        "protocol": "tcp",
                        "destination_port": 22,
                        "source": "2001:db8::/64",
                        "jump": "ACCEPT",
                    },
                    # both families, mapped per family
                    {"name": "ping", "icmp_type": "echo-request", "jump": "ACCEPT"},
                    {
                        "name": "web",
                        "protocol": "tcp",
                        "destination_ports": [80, 443],
                        "jump": "HOSTFW-WEB",
                    },
                ],
            },
            {"name": "HOSTFW-WEB", "rules": [{"name": "web-accept", "jump": "ACCEPT"}]},
        ],
    }
]

DELETE_CONFIG = [
    {
        "table": "filter",
        "chains": [
            {
                "name": "INPUT",
                "rules": [
                    CONFIG[0]["chains"][0]["rules"][1],  # ssh4
                    CONFIG[0]["chains"][0]["rules"][2],  # ssh6
                    CONFIG[0]["chains"][0]["rules"][3],  # ping: absent, nothing to do
                ],
            },
            {"name": "HOSTFW-OLD"},  # the whole chain, with the rule that jumps to it
        ],
    }
]


def expected(state, fam):
    """{chain: (policy, rules)} of the filter table after `state`."""
    untouched = {
        "FORWARD": ("DROP", [FWD]),
        "OUTPUT": ("ACCEPT", []),
        "HOSTFW-OLD": ("-", [OLD_RET]),
    }
    ours = [LO, SSH[fam], PING[fam], WEB]
    if state == "merged":
        # present rules stay where they are; missing ones follow the wanted rule before them
        return {
            "INPUT": ("DROP", [LO, DNS, SSH[fam], PING[fam], WEB, old(fam)]),
            "HOSTFW-WEB": ("-", [WEB_OLD, WEB_ACCEPT]),
            **untouched,
        }
    if state == "replaced":
        return {"INPUT": ("DROP", ours), "HOSTFW-WEB": ("-", [WEB_ACCEPT]), **untouched}
    if state == "overridden":
        return {
            "INPUT": ("DROP", ours),
            "FORWARD": ("ACCEPT", []),
            "OUTPUT": ("ACCEPT", []),
            "HOSTFW-WEB": ("-", [WEB_ACCEPT]),
        }
    assert state == "deleted"
    return {
        "INPUT": ("ACCEPT", [LO, DNS]),
        "FORWARD": ("DROP", [FWD]),
        "OUTPUT": ("ACCEPT", []),
        "HOSTFW-WEB": ("-", [WEB_OLD]),
    }


def _tasks(state, scope, backend):
    config = DELETE_CONFIG if state == "deleted" else CONFIG

    def t(name, **kw):
        return task(state, config, name=name, ip_version=scope, backend=backend, **kw)

    return [
        t("check", _check_mode=True, _diff=True),
        save_task("save after check"),
        t("apply", _diff=True),
        t("check again", _check_mode=True),
        t("again"),
    ]


def _check_scope(scope, variant, backend, state, before, results, final):
    managed = FAMILIES if scope == "both" else (scope,)
    failed = [r for r in results if r.get("failed")]
    assert not failed, failed
    res = by_name(results)
    assert len(res) == 5, [r["_task"] for r in results]

    # check mode: the whole plan, nothing touched (byte for byte)
    check = res["check"]
    assert check["changed"] is True
    assert sorted(check["commands"]) == sorted(managed)
    assert recorded(res["save after check"]) == before, "check mode changed the host"

    # apply: reports what it did, and the host holds exactly the expected rules
    apply = res["apply"]
    assert apply["changed"] is True
    assert apply["backend"] == backend
    assert apply["variant"] == VARIANT_NAME[variant]
    assert apply["commands"] == check["commands"]
    for fam in FAMILIES:
        assert tables(final[fam]) == tables(before[fam]), f"{fam}: tables appeared or vanished"
        if fam in managed:
            assert chains(final[fam]) == expected(state, fam), fam
        else:
            assert final[fam] == before[fam], f"{fam} is outside ip_version={scope} but changed"

    # diff mode: before/after text per family and table, as iptables-save prints them
    for result in (check, apply):
        diffs = {d["before_header"]: d for d in result["diff"]}
        assert sorted(diffs) == sorted(f"{fam} filter" for fam in managed)
        for fam in managed:
            d = diffs[f"{fam} filter"]
            assert d["after_header"] == f"{fam} filter"
            # the same text as iptables-save, but for quotes around words that need none
            assert unquote(d["before"]) == unquote(before[fam])
            assert unquote(d["after"]) == unquote(final[fam])

    # idempotence, in check mode and for real (a re-run that changed the host
    # would have reported commands; the final state was checked above)
    assert res["check again"]["changed"] is False
    again = res["again"]
    assert again["changed"] is False
    assert not any(again["commands"].values()), again["commands"]


@pytest.mark.parametrize("state", ["merged", "replaced", "overridden", "deleted"])
@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_state_check_apply_idempotent(netns_factory, run_playbook, variant, backend, state):
    """Per ip_version (both; ipv4 only; ipv6 only), each in its own namespace, run
    concurrently: check mode, apply, check mode again, apply again."""
    scopes = ("both", "ipv4", "ipv6")
    spaces = [netns_factory() for _i in scopes]
    for ns in spaces:
        for fam in FAMILIES:
            ns.restore(base(fam), fam)
    before = saves(spaces[0])
    runs = run_parallel(
        run_playbook,
        [(ns, _tasks(state, scope, backend)) for ns, scope in zip(spaces, scopes, strict=True)],
    )
    errors = []
    for scope, ns, results in zip(scopes, spaces, runs, strict=True):
        try:
            _check_scope(scope, variant, backend, state, before, results, saves(ns))
        except AssertionError as e:
            errors.append(f"ip_version={scope}: {e}")
    assert not errors, "\n\n".join(errors)
