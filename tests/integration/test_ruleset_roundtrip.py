"""ruleset: gathered, rendered and parsed agree with each other and with the kernel.

The host holds a varied ruleset in four tables and both families: our named
rules, foreign rules outside the vocabulary (MARK, TCPMSS, CT, addrtype,
MASQUERADE, pkttype, owner…), a goto, a LOG chain, and IPv4/IPv6 differences.
"""

from __future__ import annotations

import pytest
from ruleset_cases import COMBOS, FAMILIES, RESTORE_COMBOS, by_name, chains, saves, tables, task

VARIED = {
    "ipv4": """\
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 123 -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 22 -j MARK --set-xmark 0x1/0xffffffff
-A POSTROUTING -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:HOSTFW-WEB - [0:0]
:LOGDROP - [0:0]
-A INPUT -i lo -m comment --comment "hostfw:loopback" -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "hostfw:established" -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -m pkttype --pkt-type broadcast -j DROP
-A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 5/sec -m comment --comment "hostfw:ping" -j ACCEPT
-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443 -m comment --comment "hostfw:web" -j HOSTFW-WEB
-A INPUT -p tcp -m tcp --dport 8080 -m comment --comment "hostfw:alt Alt HTTP port" -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -i eth0 -o eth1 -m comment --comment "hostfw:fwd" -j ACCEPT
-A OUTPUT -m owner --uid-owner 0 -j ACCEPT
-A OUTPUT ! -d 10.0.0.0/8 -p udp -m udp --sport 1024:65535 --dport 53 -j ACCEPT
-A HOSTFW-WEB -m iprange --src-range 192.0.2.10-192.0.2.20 -j ACCEPT
-A HOSTFW-WEB -g LOGDROP
-A LOGDROP -m limit --limit 3/min -j LOG --log-prefix "drop: " --log-level 6
-A LOGDROP -j DROP
COMMIT
""",
    "ipv6": """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s fd00::/64 ! -o docker0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:HOSTFW-WEB - [0:0]
:LOGDROP - [0:0]
-A INPUT -i lo -m comment --comment "hostfw:loopback" -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "hostfw:established" -j ACCEPT
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m limit --limit 5/sec -m comment --comment "hostfw:ping" -j ACCEPT
-A INPUT -s 2001:db8::/64 -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443 -m comment --comment "hostfw:web" -j HOSTFW-WEB
-A INPUT -p tcp -m tcp --dport 8080 -m comment --comment "hostfw:alt Alt HTTP port" -j ACCEPT
-A INPUT -j REJECT --reject-with icmp6-adm-prohibited
-A FORWARD -i eth0 -o eth1 -m comment --comment "hostfw:fwd" -j ACCEPT
-A HOSTFW-WEB -m iprange --src-range 2001:db8::10-2001:db8::20 -j ACCEPT
-A HOSTFW-WEB -g LOGDROP
-A LOGDROP -m limit --limit 3/min -j LOG --log-prefix "drop: " --log-level 6
-A LOGDROP -j DROP
COMMIT
""",
}


def load_varied(ns):
    for fam in FAMILIES:
        ns.restore(VARIED[fam], fam, noflush=False)
    loaded = saves(ns)
    for fam in FAMILIES:  # the fixture itself: what we restored is what the kernel holds
        assert sorted(tables(loaded[fam])) == sorted(tables(VARIED[fam]))
        for t in tables(VARIED[fam]):
            assert chains(loaded[fam], t) == chains(VARIED[fam], t), (fam, t)
    return loaded


def by_table(config):
    """A config list keyed by (table, ip_version): the order of tables means nothing
    (iptables-save lists them in the order the kernel registered them)."""
    out = {(t["table"], t.get("ip_version", "both")): t for t in config}
    assert len(out) == len(config), config
    return out


@pytest.mark.parametrize(("variant", "backend"), COMBOS)
def test_gathered_fed_back_through_overridden_changes_nothing(
    netns, run_playbook, variant, backend
):
    before = load_varied(netns)
    tasks = [
        {**task("gathered", name="gather", backend=backend), "register": "current"},
        task(
            "overridden",
            "{{ current.gathered }}",
            name="check",
            backend=backend,
            _check_mode=True,
            _diff=True,
        ),
        task("overridden", "{{ current.gathered }}", name="override", backend=backend),
    ]
    res = by_name(run_playbook(netns, tasks))
    for name in ("gather", "check", "override"):
        assert res[name]["failed"] is False, res[name]
    # the gathered config is complete: every table, both families, raw rules kept
    gathered = res["gather"]["gathered"]
    assert {t["table"] for t in gathered} == {"raw", "mangle", "nat", "filter"}
    for name in ("check", "override"):
        assert res[name]["changed"] is False, res[name]["commands"]
        assert not any(res[name]["commands"].values()), res[name]["commands"]
        assert not res[name].get("diff"), res[name]["diff"]
    assert saves(netns) == before


@pytest.mark.parametrize(("variant", "backend"), RESTORE_COMBOS)
def test_rendered_and_parsed_agree_with_gathered(netns_factory, run_playbook, variant, backend):
    host = netns_factory()
    text = load_varied(host)
    raw = {fam: host.save(fam) for fam in FAMILIES}  # with its comment lines, as a user has it
    tasks = [
        {**task("gathered", name="gather"), "register": "current"},
        *(task("gathered", name=f"gather {fam}", ip_version=fam) for fam in FAMILIES),
        task("rendered", "{{ current.gathered }}", name="render"),
        *(
            task("parsed", name=f"parse {fam}", ip_version=fam, running_config=raw[fam])
            for fam in FAMILIES
        ),
    ]
    res = by_name(run_playbook(host, tasks))
    assert not [r for r in res.values() if r["failed"]], res
    assert saves(host) == text  # none of them touched the host

    # parsed of iptables-save text == gathered of the same host, per family
    for fam in FAMILIES:
        assert res[f"parse {fam}"]["parsed"] == res[f"gather {fam}"]["gathered"], fam

    # rendered, loaded into a fresh namespace, gathers back to the same config
    rendered = res["render"]["rendered"]
    assert sorted(rendered) == sorted(FAMILIES)
    fresh = netns_factory()
    for fam in FAMILIES:
        fresh.restore(rendered[fam], fam, noflush=False)
    got = saves(fresh)
    for fam in FAMILIES:
        assert sorted(tables(got[fam])) == sorted(tables(text[fam])), fam
        for t in tables(text[fam]):
            assert chains(got[fam], t) == chains(text[fam], t), (fam, t)
    again = by_name(run_playbook(fresh, [task("gathered", name="gather")]))["gather"]
    assert by_table(again["gathered"]) == by_table(res["gather"]["gathered"])
