"""ruleset on a host that also runs Docker, fail2ban and kube-proxy.

Their chains and rules (matched by `ignore`) survive `overridden`, in order and
ahead of ours; without `ignore` the same task removes them (so the test can
fail); `merged` never removes or reorders anything.
"""

from __future__ import annotations

import pytest
from ruleset_cases import (
    COMBOS,
    FAMILIES,
    by_name,
    chains,
    recorded,
    save_task,
    saves,
    tables,
    task,
)

IGNORE = ["^DOCKER", "^f2b-", "^KUBE-"]

FOREIGN = {
    "ipv4": """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8000 -j DNAT --to-destination 172.17.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
:KUBE-SERVICES - [0:0]
:OLD-STUFF - [0:0]
:f2b-sshd - [0:0]
-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A INPUT -p tcp -m tcp --dport 3306 -j ACCEPT
-A INPUT -j OLD-STUFF
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -j DOCKER
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "kube-dns has no endpoints" -m tcp --dport 53 -j REJECT --reject-with icmp-port-unreachable
-A OLD-STUFF -s 198.51.100.0/24 -j DROP
-A f2b-sshd -s 203.0.113.5/32 -j REJECT --reject-with icmp-port-unreachable
-A f2b-sshd -j RETURN
COMMIT
""",
    "ipv6": """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:f2b-sshd - [0:0]
-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
-A INPUT -p tcp -m tcp --dport 3306 -j ACCEPT
-A FORWARD -j DOCKER-USER
-A DOCKER-USER -j RETURN
-A f2b-sshd -s 2001:db8:bad::5/128 -j REJECT --reject-with icmp6-port-unreachable
-A f2b-sshd -j RETURN
COMMIT
""",
}

CONFIG = [
    {
        "table": "filter",
        "chains": [
            {
                "name": "INPUT",
                "policy": "DROP",
                "rules": [
                    {"name": "loopback", "in_interface": "lo", "jump": "ACCEPT"},
                    {
                        "name": "established",
                        "ctstate": ["ESTABLISHED", "RELATED"],
                        "jump": "ACCEPT",
                    },
                    {
                        "name": "ssh",
                        "protocol": "tcp",
                        "destination_port": 22,
                        "source": ["192.0.2.0/24", "2001:db8::/64"],
                        "jump": "ACCEPT",
                    },
                    {
                        "name": "web",
                        "protocol": "tcp",
                        "destination_port": 8080,
                        "jump": "HOSTFW-WEB",
                    },
                ],
            },
            {
                "name": "FORWARD",
                "policy": "DROP",
                "rules": [{"name": "fwd-est", "ctstate": ["ESTABLISHED"], "jump": "ACCEPT"}],
            },
            {"name": "HOSTFW-WEB", "rules": [{"name": "web-accept", "jump": "ACCEPT"}]},
        ],
    }
]

OURS = {
    "ipv4": {
        "INPUT": [
            '-i lo -m comment --comment "hostfw:loopback" -j ACCEPT',
            '-m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "hostfw:established" -j ACCEPT',
            '-s 192.0.2.0/24 -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh#1" -j ACCEPT',
            '-p tcp -m tcp --dport 8080 -m comment --comment "hostfw:web" -j HOSTFW-WEB',
        ],
        "FORWARD": [
            '-m conntrack --ctstate ESTABLISHED -m comment --comment "hostfw:fwd-est" -j ACCEPT'
        ],
        "HOSTFW-WEB": ['-m comment --comment "hostfw:web-accept" -j ACCEPT'],
    },
    "ipv6": {
        "INPUT": [
            '-i lo -m comment --comment "hostfw:loopback" -j ACCEPT',
            '-m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "hostfw:established" -j ACCEPT',
            '-s 2001:db8::/64 -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh#2" -j ACCEPT',
            '-p tcp -m tcp --dport 8080 -m comment --comment "hostfw:web" -j HOSTFW-WEB',
        ],
        "FORWARD": [
            '-m conntrack --ctstate ESTABLISHED -m comment --comment "hostfw:fwd-est" -j ACCEPT'
        ],
        "HOSTFW-WEB": ['-m comment --comment "hostfw:web-accept" -j ACCEPT'],
    },
}
NOT_IGNORED = ("3306", "OLD-STUFF")  # foreign, but not matched by IGNORE: overridden removes them


def load(ns):
    for fam in FAMILIES:
        ns.restore(FOREIGN[fam], fam, noflush=False)
    return saves(ns)


def is_ignored_foreign(chain, spec):
    return chain.startswith(("DOCKER", "f2b-", "KUBE-")) or any(
        p in spec for p in ("DOCKER", "f2b-", "KUBE-", "kubernetes")
    )


def foreign_chains(before, table="filter"):
    """{chain: (policy, [rules])} of the ignored user chains in `before`."""
    return {
        chain: value
        for chain, value in chains(before, table).items()
        if chain.startswith(("DOCKER", "f2b-", "KUBE-"))
    }


@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_merged_then_overridden_keeps_ignored_foreign_rules(netns, run_playbook, variant, backend):
    before = load(netns)
    merged_cfg = [
        {
            "table": "filter",
            "chains": [
                {"name": "INPUT", "rules": CONFIG[0]["chains"][0]["rules"]},
                CONFIG[0]["chains"][2],
            ],
        }
    ]
    tasks = [
        task("merged", merged_cfg, name="merge", backend=backend),
        save_task("after merge"),
        task("overridden", CONFIG, name="override", ignore=IGNORE, backend=backend),
        task("overridden", CONFIG, name="again", ignore=IGNORE, backend=backend),
    ]
    res = by_name(run_playbook(netns, tasks))
    assert not [r for r in res.values() if r["failed"]], res

    # merged: every line that was there is still there, in the same order, and
    # the tables other than filter are untouched
    merged = recorded(res["after merge"])
    assert res["merge"]["changed"] is True
    for fam in FAMILIES:
        assert sorted(tables(merged[fam])) == sorted(tables(before[fam])), f"{fam}: new tables"
        for t in ("nat", "filter"):
            b, a = chains(before[fam], t), chains(merged[fam], t)
            assert set(b) <= set(a), (fam, t)
            for chain, (policy, rules) in b.items():
                kept = [r for r in a[chain][1] if "hostfw:" not in r]
                assert (a[chain][0], kept) == (policy, rules), (fam, t, chain)
        assert chains(merged[fam], "nat") == chains(before[fam], "nat")
        ours = [r for r in chains(merged[fam])["INPUT"][1] if "hostfw:" in r]
        assert ours == OURS[fam]["INPUT"], fam

    # overridden with ignore: the foreign chains and rules stay, in order, ahead of ours
    assert res["override"]["changed"] is True
    assert res["again"]["changed"] is False
    assert not any(res["again"]["commands"].values())
    after = saves(netns)
    for fam in FAMILIES:
        got = chains(after[fam])
        for chain, (policy, rules) in foreign_chains(before[fam]).items():
            assert got[chain] == (policy, rules), (fam, chain)
        want_builtin = {"INPUT": "DROP", "FORWARD": "DROP", "OUTPUT": "ACCEPT"}
        for chain, policy in want_builtin.items():
            foreign = [r for r in chains(before[fam])[chain][1] if is_ignored_foreign(chain, r)]
            assert got[chain] == (policy, foreign + OURS[fam].get(chain, [])), (fam, chain)
        assert got["HOSTFW-WEB"] == ("-", OURS[fam]["HOSTFW-WEB"])
        assert "OLD-STUFF" not in got
        assert not any(p in line for p in NOT_IGNORED for line in after[fam].splitlines())
        # the tables not in config are not touched at all
        assert sorted(tables(after[fam])) == sorted(tables(before[fam])), f"{fam}: new tables"
        assert chains(after[fam], "nat") == chains(before[fam], "nat")


@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_overridden_without_ignore_removes_foreign_rules(netns, run_playbook, variant, backend):
    before = load(netns)
    res = by_name(run_playbook(netns, [task("overridden", CONFIG, name="o", backend=backend)]))
    assert res["o"]["failed"] is False, res["o"]
    after = saves(netns)
    for fam in FAMILIES:
        got = chains(after[fam])
        assert got == {
            "INPUT": ("DROP", OURS[fam]["INPUT"]),
            "FORWARD": ("DROP", OURS[fam]["FORWARD"]),
            "OUTPUT": ("ACCEPT", []),
            "HOSTFW-WEB": ("-", OURS[fam]["HOSTFW-WEB"]),
        }, fam
        assert sorted(tables(after[fam])) == sorted(tables(before[fam])), f"{fam}: new tables"
        assert chains(after[fam], "nat") == chains(before[fam], "nat")
