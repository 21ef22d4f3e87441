"""The SSH connection guard (module_utils/_eval/guard.py): SSH_CONNECTION parsed, and
whether a table (a planned one too) may cut that connection."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._eval import guard as G
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import R_A, R_B, plan1, table

CONN = G.parse_ssh_connection("192.0.2.2 50022 192.0.2.1 22")


def guard(rules_text, policy="DROP", family="ipv4", conn=CONN):
    t = table(rules_text)
    t.chains["INPUT"].policy = policy
    return G.check(t, family, conn)


def test_parse_ssh_connection():
    assert (
        "ipv4",
        ipaddress.ip_address("192.0.2.2"),
        ipaddress.ip_address("192.0.2.1"),
        22,
    ) == CONN
    fam, client, server, port = G.parse_ssh_connection("::ffff:192.0.2.2 1 ::ffff:192.0.2.1 2222")
    assert (fam, str(client), str(server), port) == ("ipv4", "192.0.2.2", "192.0.2.1", 2222)
    fam, client, _s, _p = G.parse_ssh_connection("fe80::2%eth0 1 fe80::1%eth0 22")
    assert fam == "ipv6" and str(client) == "fe80::2"
    assert G.parse_ssh_connection("") is None
    assert G.parse_ssh_connection("nonsense here") is None
    assert G.parse_ssh_connection(None) is None


@pytest.mark.parametrize(
    "rules_text, policy, expected",
    [
        ("", "DROP", (True, True)),
        ("", "ACCEPT", (False, False)),
        ("-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j ACCEPT", "DROP", (False, False)),
        ("-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j ACCEPT", "DROP", (True, True)),
        ("-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT", "DROP", (True, True)),
        ("-A INPUT -p udp -m udp --dport 22 -j ACCEPT", "DROP", (True, True)),
        ("-A INPUT -i eth0 -p tcp -m tcp --dport 22 -j ACCEPT", "DROP", (False, True)),
        ("-A INPUT -p tcp -m multiport --dports 80,20:30 -j ACCEPT", "DROP", (False, False)),
        ("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "DROP", (True, True)),
        # NEW accepted, but the session's own (ESTABLISHED) packets then meet the policy
        ("-A INPUT -m conntrack --ctstate NEW -j ACCEPT", "DROP", (True, True)),
        (
            "-A INPUT -s 192.0.2.0/24 -j REJECT --reject-with icmp-port-unreachable\n"
            "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
            "DROP",
            (True, True),
        ),
        ("-A INPUT ! -s 192.0.2.0/24 -j DROP", "ACCEPT", (False, False)),
        ("-A INPUT -j DROP", "ACCEPT", (True, True)),
        ("-A INPUT -m limit --limit 1/sec -j ACCEPT", "DROP", (False, True)),
        ("-A INPUT -m mark --mark 0x1 -j ACCEPT", "DROP", (False, True)),
        ("-A INPUT -j LOG\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "DROP", (False, False)),
        (
            ":SSH - [0:0]\n-A INPUT -j SSH\n-A SSH -p tcp -m tcp --dport 22 -j ACCEPT",
            "DROP",
            (False, False),
        ),
        (
            ":SSH - [0:0]\n-A INPUT -j SSH\n-A SSH -j RETURN\n-A SSH -p tcp -j ACCEPT",
            "DROP",
            (True, True),
        ),
        (":SSH - [0:0]\n-A INPUT -g SSH\n-A INPUT -j ACCEPT", "DROP", (True, True)),
        ("-A INPUT -m iprange --src-range 192.0.2.1-192.0.2.9 -j ACCEPT", "DROP", (False, False)),
        ("-A INPUT -p icmp -j ACCEPT", "DROP", (True, True)),
        # non-terminating targets: the packet goes on to the next rule
        (
            "-A INPUT -j CONNMARK --set-xmark 0x1/0xffffffff\n"
            "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
            "DROP",
            (False, False),
        ),
    ],
    ids=[
        "drop-policy-no-rules",
        "accept-policy-no-rules",
        "ssh-accepted-from-client-net",
        "ssh-accepted-from-other-net",
        "other-port",
        "udp-22",
        "interface-match-is-possible",
        "multiport-range",
        "established-only",
        "ctstate-new",
        "reject-before-accept",
        "negated-source-drop",
        "drop-all-accept-policy",
        "limit-is-possible",
        "foreign-raw-is-possible",
        "log-then-accept",
        "user-chain-accepts",
        "user-chain-returns-first",
        "goto-empty-chain",
        "iprange",
        "icmp-only",
        "connmark-is-non-terminating",
    ],
)
def test_guard(rules_text, policy, expected):
    assert guard(rules_text, policy) == expected


def test_guard_other_family_is_not_judged():
    assert guard("", "DROP", family="ipv6") == (False, False)


def test_guard_ipv6_connection():
    conn = G.parse_ssh_connection("2001:db8::2 5000 2001:db8::1 22")
    ok = "-A INPUT -s 2001:db8::/64 -p tcp -m tcp --dport 22 -j ACCEPT"
    assert guard(ok, "DROP", family="ipv6", conn=conn) == (False, False)
    assert guard("", "DROP", family="ipv6", conn=conn) == (True, True)


def test_guard_on_planned_table():
    """The guard judges plan.after: a DROP policy planned without an SSH rule."""
    p = plan1(table(""), [{"name": "INPUT", "policy": "DROP", "rules": [R_B]}], "overridden")
    assert G.check(p.after, "ipv4", CONN) == (True, True)
    p = plan1(
        table(""),
        [{"name": "INPUT", "policy": "DROP", "rules": [dict(R_A, source="192.0.2.0/24")]}],
        "overridden",
    )
    assert G.check(p.after, "ipv4", CONN) == (False, False)


ESTABLISHED_FIRST = "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"


def both_ways(input_rules, output_rules="", output_policy="ACCEPT"):
    t = table(input_rules + output_rules)
    t.chains["INPUT"].policy = "DROP"
    t.chains["OUTPUT"].policy = output_policy
    return t


def test_guard_judges_the_replies_through_output():
    ssh = ESTABLISHED_FIRST + "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
    assert G.check(both_ways(ssh), "ipv4", CONN) == (False, False)
    cut = both_ways(ssh, output_policy="DROP")
    assert G.check(cut, "ipv4", CONN) == (True, True)
    assert G.refusal(cut, "ipv4", CONN) == (
        "the replies to 192.0.2.2 would be dropped by the OUTPUT policy DROP"
    )
    replies = "-A OUTPUT -p tcp -m tcp --sport 22 -j ACCEPT"
    assert G.check(both_ways(ssh, replies, "DROP"), "ipv4", CONN) == (False, False)


def test_guard_names_the_rule_that_cuts_a_new_connection():
    t = both_ways(ESTABLISHED_FIRST + "-A INPUT -p tcp -m tcp --dport 22 -j REJECT")
    assert G.check(t, "ipv4", CONN) == (True, True)
    assert G.refusal(t, "ipv4", CONN) == (
        "a new connection from 192.0.2.2 to port 22 would be rejected by rule 2 of INPUT "
        "(-A INPUT -p tcp -m tcp --dport 22 -j REJECT)"
    )


def test_guard_lets_an_uncertain_cut_pass_with_a_warning():
    t = both_ways(ESTABLISHED_FIRST + "-A INPUT -p tcp -m limit --limit 1/sec -j ACCEPT")
    assert G.check(t, "ipv4", CONN) == (False, True)
    assert G.refusal(t, "ipv4", CONN) is None
