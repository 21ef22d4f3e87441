"""The save parser on dumps the kernel produces for a host that also runs Docker,
fail2ban and kube-proxy: foreign rules survive gathering (as {'raw': ...} when they
are outside the vocabulary), gathering and feeding back changes nothing, and
`overridden` with `ignore` keeps the foreign rules, also when applied for real."""

from __future__ import annotations

import pytest
from _kernel import FAMILIES, VARIANTS, namespace, needs_kernel

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import gather as GATHER
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGN
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import states as STATES

BOTH = ("ipv4", "ipv6")
# Docker's own FORWARD rules name only the bridge (`-o docker0 ... -j ACCEPT`): ignore
# regexes are also searched over interface names, so `^docker0$` keeps them.
IGNORE = ["^DOCKER", "^f2b-", "^KUBE-", "^docker0$"]

HOST4 = """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-SERVICES - [0:0]
:f2b-sshd - [0:0]
-A INPUT -i lo -m comment --comment hostfw:loopback -j ACCEPT
-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A INPUT -j KUBE-FIREWALL
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP
-A KUBE-SERVICES -m mark --mark 0x4000/0x4000 -j DROP
-A f2b-sshd -s 203.0.113.5/32 -j REJECT --reject-with icmp-port-unreachable
-A f2b-sshd -j RETURN
COMMIT
"""

HOST6 = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:f2b-sshd - [0:0]
-A INPUT -i lo -m comment --comment hostfw:loopback -j ACCEPT
-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -m mark --mark 0x4000/0x4000 -j DROP
-A f2b-sshd -s 2001:db8:bad::5/128 -j REJECT --reject-with icmp6-port-unreachable
-A f2b-sshd -j RETURN
COMMIT
"""

HOST = {"ipv4": HOST4, "ipv6": HOST6}
OUTSIDE_VOCABULARY = ("addrtype", "mark")

OUR_CONFIG = [
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
                        "source": "192.0.2.0/24",
                        "jump": "ACCEPT",
                    },
                    {"name": "web", "protocol": "tcp", "jump": "HOSTFW-WEB"},
                ],
            },
            {
                "name": "HOSTFW-WEB",
                "rules": [
                    {
                        "name": "https",
                        "protocol": "tcp",
                        "destination_ports": [80, 443],
                        "jump": "ACCEPT",
                    }
                ],
            },
        ],
    }
]


def host_state(ns, variant):
    return {fam: SAVE.parse_save(ns.save(variant, fam)) for fam in FAMILIES}


def shape(tbl):
    return {n: (c.policy, [r.tokens for r in c.rules]) for n, c in tbl.chains.items()}


@pytest.fixture(scope="module", params=VARIANTS)
def host(request):
    """(variant, namespace) with the Docker/fail2ban/kube-proxy-like rules restored."""
    with namespace() as ns:
        for fam in FAMILIES:
            ns.restore(request.param, fam, HOST[fam])
        yield request.param, ns


pytestmark = needs_kernel


def test_save_parses_to_the_rules_restored(host):
    variant, ns = host
    state = host_state(ns, variant)
    for fam in FAMILIES:
        want = SAVE.parse_save(HOST[fam])
        for tname, tbl in want.items():
            assert shape(state[fam][tname]) == shape(tbl)


def test_foreign_rules_outside_the_vocabulary_come_back_raw(host):
    variant, ns = host
    state = host_state(ns, variant)
    raw_seen = 0
    for fam in FAMILIES:
        for tname, tbl in state[fam].items():
            for cname, chain in tbl.chains.items():
                for rule in chain.rules:
                    data = GATHER.rule_to_config(rule, fam, tname, cname)
                    outside = any(w in rule.tokens for w in OUTSIDE_VOCABULARY)
                    if outside:
                        raw_seen += 1
                        assert set(data) == {"raw"}, data
                        assert tuple(TOK.tokenize(data["raw"])) == rule.tokens
                    else:
                        assert "raw" not in data, (cname, data)
                    again = RULE.compile_rule(data, (fam,), tname, cname, 1)
                    assert [r.tokens for _f, r in again] == [rule.tokens]
    assert raw_seen == 5  # 2 addrtype + 2 mark (ipv4), 1 mark (ipv6)


def test_foreign_rules_inside_the_vocabulary_are_structured(host):
    variant, ns = host
    f4 = host_state(ns, variant)["ipv4"]["filter"]

    def conf(chain, i):
        return GATHER.rule_to_config(f4.chains[chain].rules[i], "ipv4", "filter", chain)

    assert conf("FORWARD", 2) == {
        "out_interface": "docker0",
        "ctstate": ["RELATED", "ESTABLISHED"],
        "jump": "ACCEPT",
    }
    assert conf("f2b-sshd", 0) == {"source": "203.0.113.5/32", "jump": "REJECT"}
    assert conf("INPUT", 1) == {"protocol": "tcp", "destination_ports": [22], "jump": "f2b-sshd"}
    assert conf("INPUT", 2) == {
        "ctstate": ["NEW"],
        "comment": "kubernetes service portals",
        "jump": "KUBE-SERVICES",
    }
    assert conf("INPUT", 0) == {"in_interface": "lo", "name": "loopback", "jump": "ACCEPT"}
    assert f4.chains["INPUT"].rules[0].owned and not f4.chains["INPUT"].rules[1].owned


@pytest.mark.parametrize("state", ["overridden", "replaced", "merged"])
def test_gathered_config_fed_back_changes_nothing(host, state):
    variant, ns = host
    current = host_state(ns, variant)
    config = GATHER.tables_to_config(current)
    desired = CONFIG.compile_config(config, BOTH)
    plans = STATES.plan(current, desired, state, IGN.Ignore([]), BOTH)
    assert {(p.family, p.before.name) for p in plans} >= {
        ("ipv4", "filter"),
        ("ipv4", "nat"),
        ("ipv6", "filter"),
    }
    for p in plans:
        assert p.ops == [], (p.family, p.before.name, RESTORE.render_ops(p.ops))
        assert shape(p.after) == shape(current[p.family][p.before.name])


def test_gathered_config_renders_the_same_host(host):
    variant, ns = host
    current = host_state(ns, variant)
    rendered = STATES.render_config(CONFIG.compile_config(GATHER.tables_to_config(current), BOTH))
    for fam in FAMILIES:
        back = SAVE.parse_save(rendered[fam])
        for tname, tbl in current[fam].items():
            assert shape(back[tname]) == shape(tbl)


def foreign_of(tbl):
    return {n: [r.tokens for r in c.rules if not r.owned] for n, c in tbl.chains.items()}


def ignored_of(tbl, ignore):
    return {
        n: [r.tokens for r in c.rules if ignore.chain(n) or ignore.rule(r)]
        for n, c in tbl.chains.items()
    }


def is_subsequence(small, big):
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def overridden_plans(current):
    desired = CONFIG.compile_config(OUR_CONFIG, BOTH)
    return STATES.plan(current, desired, "overridden", IGN.Ignore(IGNORE), BOTH)


def anchors(rules, wanted_names, ignore):
    """Each ignored rule -> the wanted rule of ours right before it (None: top)."""
    out, last = [], None
    for r in rules:
        if r.name in wanted_names:
            last = r.name
        elif ignore.rule(r):
            out.append((r.tokens, last))
    return out


def test_overridden_with_ignore_keeps_ignored_rules_in_place(host):
    variant, ns = host
    current = host_state(ns, variant)
    ignore = IGN.Ignore(IGNORE)
    plans = overridden_plans(current)
    assert {p.before.name for p in plans} == {"filter"}  # nat is not in config: untouched
    for p in plans:
        before = ignored_of(p.before, ignore)
        after = p.after
        for name, rules in before.items():
            assert name in after.chains, name
            got = [r.tokens for r in after.chains[name].rules]
            assert is_subsequence(rules, got), (name, rules, got)
            # each stays right after the rule of ours it followed
            wanted = {r.name for r in after.chains[name].rules if r.owned}
            assert anchors(p.before.chains[name].rules, wanted, ignore) == anchors(
                after.chains[name].rules, wanted, ignore
            ), name
        assert after.chains["INPUT"].policy == "DROP"
        ours = ["loopback", "established", "ssh", "web"]
        if p.family == "ipv6":  # the ssh rule has an IPv4 source
            ours.remove("ssh")
        assert [r.name for r in after.chains["INPUT"].rules if r.owned] == ours


def test_overridden_with_ignore_keeps_every_foreign_rule(host):
    """Docker's, fail2ban's and kube-proxy's rules all survive, in order -
    Docker's FORWARD rules (`-o docker0 ... -j ACCEPT`) included."""
    variant, ns = host
    current = host_state(ns, variant)
    for p in overridden_plans(current):
        after = foreign_of(p.after)
        for name, rules in foreign_of(p.before).items():
            if name == "INPUT":  # INPUT is listed in config: ours replace the rest
                rules = [t for t in rules if IGN.Ignore(IGNORE).rule(RULE.rule_from_tokens(t))]
            assert is_subsequence(rules, after.get(name, [])), (p.family, name)


def test_overridden_with_ignore_applied_in_the_kernel():
    """Restore the planned transaction for real and compare the save with plan.after;
    then gathering again and planning again changes nothing."""
    for variant in VARIANTS:
        with namespace() as ns:
            for fam in FAMILIES:
                ns.restore(variant, fam, HOST[fam])
            current = host_state(ns, variant)
            plans = overridden_plans(current)
            for p in plans:
                assert p.ops
                ns.restore(variant, p.family, RESTORE.restore_text([p]))
            now = host_state(ns, variant)
            for p in plans:
                assert shape(now[p.family][p.before.name]) == shape(p.after), variant
            # nat was not touched
            assert shape(now["ipv4"]["nat"]) == shape(current["ipv4"]["nat"])
            again = overridden_plans(now)
            assert all(p.ops == [] for p in again), [RESTORE.render_ops(p.ops) for p in again]


# ------------------------------------------------------------------ pure parser cases


def test_parse_save_with_counters_and_comments():
    text = (
        "# Generated by iptables-save v1.8.9\n"
        "*filter\n"
        ":INPUT DROP [10:600]\n"
        ":FORWARD ACCEPT [0:0]\n"
        ":X - [0:0]\n"
        '[5:300] -A INPUT -p 6 -m tcp --dport 22 -m comment --comment "hostfw:ssh a \\"b\\"" -j ACCEPT\n'
        "[0:0] -A X -j RETURN\n"
        "COMMIT\n"
        "# Completed\n"
    )
    t = SAVE.parse_save(text)["filter"]
    assert list(t.chains) == ["INPUT", "FORWARD", "X"]
    assert t.chains["INPUT"].policy == "DROP" and t.chains["X"].policy is None
    (r,) = t.chains["INPUT"].rules
    assert r.tokens[:2] == ("-p", "tcp")
    assert r.counters == (5, 300)
    assert (r.name, r.comment, r.target) == ("ssh", 'hostfw:ssh a "b"', "ACCEPT")
    assert GATHER.rule_to_config(r, "ipv4", "filter", "INPUT") == {
        "protocol": "tcp",
        "destination_port": 22,
        "name": "ssh",
        "comment": 'a "b"',
        "jump": "ACCEPT",
    }


def test_render_table_parses_back():
    t = SAVE.parse_save(HOST4)["filter"]
    assert shape(SAVE.parse_save(SAVE.render_table(t))["filter"]) == shape(t)


def test_parse_save_rejects_garbage():
    with pytest.raises(ValueError):
        SAVE.parse_save("*filter\n-I INPUT 1 -j ACCEPT\nCOMMIT\n")


def test_gathered_same_numeric_icmp_type_in_both_families_compiles():
    """An unnamed ICMP type number present in both families: the gathered config
    must compile back (it is merged into one rule without ip_version)."""
    t4 = SAVE.parse_save(
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p icmp -m icmp --icmp-type 42 -j ACCEPT\nCOMMIT\n"
    )
    t6 = SAVE.parse_save(
        "*filter\n:INPUT ACCEPT [0:0]\n"
        "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 42 -j ACCEPT\nCOMMIT\n"
    )
    config = GATHER.tables_to_config({"ipv4": t4, "ipv6": t6})
    desired = CONFIG.compile_config(config, BOTH)
    for fam, t in (("ipv4", t4), ("ipv6", t6)):
        assert [r.tokens for r in desired[(fam, "filter")]["INPUT"].rules] == [
            r.tokens for r in t["filter"].chains["INPUT"].rules
        ]
