"""hostfw.netfilter.rules_info: the host's rules in the ruleset config format, on
every (variant, backend). It never changes anything (the saves stay byte for
byte), it equals ruleset state=gathered, its config fed to ruleset
state=overridden changes nothing, its filters select what they say, and its
counters are the kernel's and grow with real traffic.
"""

from __future__ import annotations

import contextlib

import pytest
from module_cases import load_task, mtask
from ruleset_cases import COMBOS, FAMILIES, VARIANT_NAME, by_name, chains, recorded, save_task

FILTER = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:HOSTFW-WEB - [0:0]
-A INPUT -i lo -m comment --comment "hostfw:loopback" -j ACCEPT
-A INPUT {src} -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh{n}" -j ACCEPT
-A INPUT -p udp -m udp --dport 53 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443 -m comment --comment "hostfw:web" -j HOSTFW-WEB
-A HOSTFW-WEB -m comment --comment "hostfw:web-accept" -j ACCEPT
-A OUTPUT -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 8080 -m comment --comment "hostfw:redirect" -j REDIRECT --to-ports 80
COMMIT
"""
TEXTS = {
    "ipv4": FILTER.format(src="-s 192.0.2.0/24", n="4"),
    "ipv6": FILTER.format(src="-s 2001:db8::/64", n="6"),
}


def info(name, backend, **args):
    """A rules_info task registered as info_<name> (``_`` keys are task keywords)."""
    keywords = {k: v for k, v in args.items() if k.startswith("_")}
    args = {k: v for k, v in args.items() if not k.startswith("_")}
    register = "info_" + name.replace(" ", "_")
    return mtask("rules_info", name, {**args, "backend": backend}, _register=register, **keywords)


@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_rules_info_reads_only_and_feeds_back(netns, run_playbook, variant, backend):
    tasks = [
        load_task("load", TEXTS),
        info("all", backend),
        info("all in check mode", backend, _check_mode=True),
        info("ipv6 INPUT", backend, tables=["filter"], chains=["INPUT"], ip_version="ipv6"),
        info("nat", backend, tables=["nat"]),
        info("with counters", backend, counters=True),
        mtask("ruleset", "gathered", {"state": "gathered", "backend": backend}),
        save_task("after reading"),
        mtask(
            "ruleset",
            "overridden with it",
            {"state": "overridden", "config": "{{ info_all.config }}", "backend": backend},
        ),
        mtask(
            "ruleset",
            "overridden with counters",
            {
                "state": "overridden",
                "config": "{{ info_with_counters.config }}",
                "backend": backend,
            },
        ),
        save_task("final"),
    ]
    res = by_name(run_playbook(netns, tasks))
    # (fed back with counters: checked last)
    failed = {k: r.get("msg") for k, r in res.items() if r.get("failed")}
    failed.pop("overridden with counters", None)
    assert not failed, failed
    before = recorded(res["load"])

    # never changes anything
    for name in ("all", "all in check mode", "ipv6 INPUT", "nat", "with counters"):
        r = res[name]
        assert r["changed"] is False, name
        assert r["backend"] == backend and r["variant"] == VARIANT_NAME[variant], r
    assert recorded(res["after reading"]) == before

    # the same data as ruleset state=gathered, in check mode too
    config = res["all"]["config"]
    assert config == res["gathered"]["gathered"]
    assert res["all in check mode"]["config"] == config

    # ... and it is the kernel's: every chain, policy and rule count of each family
    for fam in FAMILIES:
        for entry in config:
            kernel = chains(before[fam], entry["table"])
            assert [c["name"] for c in entry["chains"]] == list(kernel), (fam, entry["table"])
            for ch in entry["chains"]:
                mine = [r for r in ch["rules"] if r.get("ip_version", fam) == fam]
                assert len(mine) == len(kernel[ch["name"]][1]), (fam, ch["name"])
                assert ch.get("policy", "-") == kernel[ch["name"]][0], (fam, ch["name"])
    filt = {c["name"]: c for c in next(e for e in config if e["table"] == "filter")["chains"]}
    assert filt["FORWARD"]["policy"] == "DROP"
    assert [r.get("name") for r in filt["INPUT"]["rules"]] == [
        "loopback",
        "ssh4",
        "ssh6",
        None,
        "web",
    ]
    assert filt["INPUT"]["rules"][3] == {
        "protocol": "udp",
        "destination_port": 53,
        "jump": "ACCEPT",
    }

    # filters: tables, chains, ip_version
    assert sorted(e["table"] for e in config) == ["filter", "nat"]
    assert [e["table"] for e in res["nat"]["config"]] == ["nat"]
    assert res["nat"]["config"] == [e for e in config if e["table"] == "nat"]
    six = res["ipv6 INPUT"]["config"]
    assert [e["table"] for e in six] == ["filter"]
    assert [c["name"] for c in six[0]["chains"]] == ["INPUT"]
    assert [r.get("name") for r in six[0]["chains"][0]["rules"]] == [
        "loopback",
        "ssh6",
        None,
        "web",
    ]
    assert all("ip_version" not in r for r in six[0]["chains"][0]["rules"])

    # counters: one entry per family and table, each rule with its counters
    counted = res["with counters"]["config"]
    assert sorted((e["ip_version"], e["table"]) for e in counted) == [
        (fam, t) for fam in FAMILIES for t in ("filter", "nat")
    ]
    for e in counted:
        for ch in e["chains"]:
            for r in ch["rules"]:
                c = r["counters"]
                assert isinstance(c["packets"], int) and isinstance(c["bytes"], int), r
                assert c["packets"] >= 0 and c["bytes"] >= 0, r

    # fed back to ruleset state=overridden: nothing changes (counters are ignored)
    assert recorded(res["final"]) == before
    for name in ("overridden with it", "overridden with counters"):
        r = res[name]
        assert r["failed"] is False, (name, r.get("msg"))
        assert r["changed"] is False, (name, r.get("commands"))
        assert not any(r["commands"].values()), (name, r["commands"])


PORT = 8080
WEB = {"name": "web", "chain": "INPUT", "protocol": "tcp", "destination_port": PORT}


def kernel_counters(ns, fam):
    """(packets, bytes) of the rule named web, from iptables-save -c."""
    tool = "iptables-save" if fam == "ipv4" else "ip6tables-save"
    for line in ns.run([tool, "-c"]).stdout.splitlines():
        if "hostfw:web" in line and line.startswith("["):
            packets, octets = line[1 : line.index("]")].split(":")
            return int(packets), int(octets)
    raise AssertionError(f"no web rule in the {fam} save")


def web_counters(result):
    """{family: counters} of the rule named web in a rules_info result."""
    out = {}
    for e in result["config"]:
        for ch in e["chains"]:
            for r in ch["rules"]:
                if r.get("name") == "web":
                    out[e["ip_version"]] = r["counters"]
    return out


def all_counters(result):
    return {
        (e["ip_version"], e["table"], ch["name"], i): r["counters"]
        for e in result["config"]
        for ch in e["chains"]
        for i, r in enumerate(ch["rules"])
    }


@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_counters_grow_with_traffic(netpair, run_playbook, variant, backend):
    server, client = netpair
    read = mtask("rules_info", "read", {"counters": True, "tables": ["filter"], "backend": backend})
    with contextlib.ExitStack() as stack:
        for fam in FAMILIES:
            stack.enter_context(server.listen(PORT, fam))
        res = by_name(
            run_playbook(
                server,
                [
                    mtask("rule", "web", {**WEB, "jump": "ACCEPT", "backend": backend}),
                    mtask(
                        "rule",
                        "other",
                        {
                            **WEB,
                            "name": "other",
                            "destination_port": 9,
                            "jump": "DROP",
                            "backend": backend,
                        },
                    ),
                    read,
                ],
            )
        )
        assert not any(r["failed"] for r in res.values()), res
        first = res["read"]
        for fam in FAMILIES:
            for _i in range(3):
                client.assert_reachable(server.addr(fam), PORT)
        second = by_name(run_playbook(server, [read]))["read"]
        assert not second["failed"], second
        kernel = {fam: kernel_counters(server, fam) for fam in FAMILIES}

    before, after = web_counters(first), web_counters(second)
    assert sorted(after) == sorted(FAMILIES)
    for fam in FAMILIES:
        # three connects: at least a SYN, an ACK and a FIN each
        assert after[fam]["packets"] >= before[fam]["packets"] + 9, (fam, before, after)
        assert after[fam]["bytes"] > before[fam]["bytes"], (fam, before, after)
        assert (after[fam]["packets"], after[fam]["bytes"]) == kernel[fam], (fam, kernel)
    # nothing decreases, anywhere
    old, new = all_counters(first), all_counters(second)
    assert sorted(old) == sorted(new)
    for key, c in old.items():
        assert new[key]["packets"] >= c["packets"] and new[key]["bytes"] >= c["bytes"], key
