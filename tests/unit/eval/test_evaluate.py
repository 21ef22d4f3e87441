"""The packet evaluator (_eval/evaluate.py) on hand-written tables: the walk as
the kernel does it (order, jump and RETURN, goto, non-terminating targets, REJECT,
policies), certainty, and the port index agreeing with the plain walk. Against
the kernel itself: tests/kernel/eval/."""

from __future__ import annotations

import ipaddress
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hostfw.netfilter.plugins.module_utils._eval import evaluate as E
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import parse_save
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.packet import Packet

HEAD = ":INPUT {policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"


def tables(body, policy="DROP", chains=()):
    head = HEAD.format(policy=policy) + "".join(":%s - [0:0]\n" % c for c in chains)
    return parse_save("*filter\n" + head + body.strip() + "\nCOMMIT\n")


def pkt(proto="tcp", src="192.0.2.9", dport=None, family="ipv4", **kw):
    kw.setdefault("state", "NEW")
    kw.setdefault("syn", proto == "tcp" and kw["state"] == "NEW")
    kw.setdefault("fragment", False)
    dst = "2001:db8::2" if family == "ipv6" else "192.0.2.2"
    return Packet(
        family, ipaddress.ip_address(src), ipaddress.ip_address(dst), proto, dport=dport, **kw
    )


def decided(answer):
    d = answer["decided_by"]
    return (answer["verdict"], d["chain"], d["position"] or d["policy"])


WEB = tables(
    """
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh" -j ACCEPT
-A INPUT -p tcp -j WEB
-A INPUT -p icmp -g G
-A INPUT -j LOG --log-prefix "drop: "
-A WEB -s 192.0.2.66/32 -j RETURN
-A WEB -p tcp -m tcp --dport 80 -j ACCEPT
-A WEB -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset
-A WEB -p tcp -m tcp --dport 82 -j REJECT
-A G -s 192.0.2.1/32 -j RETURN
-A G -j ACCEPT
""",
    chains=("WEB", "G"),
)


@pytest.mark.parametrize(
    "packet,expected",
    [
        (pkt(dport=22), ("accept", "INPUT", 2)),
        (pkt(dport=80), ("accept", "WEB", 2)),
        (pkt(dport=80, src="192.0.2.66"), ("drop", "INPUT", "DROP")),  # RETURN, then LOG, policy
        (pkt(dport=81), ("reject", "WEB", 3)),
        (pkt(dport=9), ("drop", "INPUT", "DROP")),
        (pkt(dport=9, state="ESTABLISHED"), ("accept", "INPUT", 1)),
        (pkt("icmp"), ("accept", "G", 2)),
        # a RETURN in a chain reached by goto goes back to the caller of INPUT: the policy
        (pkt("icmp", src="192.0.2.1"), ("drop", "INPUT", "DROP")),
    ],
)
def test_the_walk_decides_as_the_kernel_does(packet, expected):
    answer = E.explain(WEB, packet)
    assert decided(answer) == expected
    assert answer["certainty"] == "definite" and answer["verdicts"] == [expected[0]]


def test_the_path_holds_every_rule_that_matched_with_the_decider_last():
    answer = E.explain(WEB, pkt(dport=80, src="192.0.2.66"))
    assert [(p["chain"], p["position"]) for p in answer["path"]] == [
        ("INPUT", 3),
        ("WEB", 1),
        ("INPUT", 5),
    ]
    answer = E.explain(WEB, pkt(dport=22))
    assert answer["path"][-1]["rule"] == (
        '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh" -j ACCEPT'
    )
    assert answer["decided_by"]["name"] == "ssh" and answer["decided_by"]["table"] == "filter"


def test_reject_carries_its_reply_with_the_familys_default():
    assert E.explain(WEB, pkt(dport=81))["reject_with"] == "tcp-reset"
    assert E.explain(WEB, pkt(dport=82))["reject_with"] == "icmp-port-unreachable"
    six = tables("-A INPUT -p tcp -j REJECT")
    assert E.explain(six, pkt(src="2001:db8::9", family="ipv6"), "ipv6")["reject_with"] == (
        "icmp6-port-unreachable"
    )


def test_an_undecidable_rule_makes_every_outcome_possible():
    t = tables("-A INPUT -p udp -m limit --limit 5/sec -j ACCEPT\n-A INPUT -p udp -j REJECT")
    answer = E.explain(t, pkt("udp", dport=53))
    assert answer["certainty"] == "may" and answer["verdicts"] == ["accept", "reject"]
    assert answer["verdict"] == "accept"  # the first outcome: the rule as matched
    assert [(u["position"], u["keys"]) for u in answer["uncertain"]] == [(1, ["limit"])]
    assert [o["decided_by"]["position"] for o in answer["outcomes"]] == [1, 2]


def test_an_undecidable_rule_that_cannot_change_the_verdict_still_says_may():
    t = tables("-A INPUT -p udp -m limit --limit 5/sec -j DROP")  # policy DROP too
    answer = E.explain(t, pkt("udp", dport=53))
    assert answer["verdicts"] == ["drop"] and answer["certainty"] == "may"


def test_a_raw_rule_outside_the_vocabulary_is_uncertain():
    t = tables("-A INPUT -m recent --rcheck --name bad --rsource -j DROP", policy="ACCEPT")
    answer = E.explain(t, pkt(dport=22))
    assert answer["verdicts"] == ["accept", "drop"]
    assert answer["uncertain"][0]["keys"] == ["raw"]


def test_a_jump_to_a_chain_the_table_lacks_is_uncertain():
    t = tables("-A INPUT -j NFQUEUE --queue-num 1", policy="ACCEPT")
    assert E.explain(t, pkt(dport=22))["certainty"] == "may"


def test_no_filter_table_accepts():
    answer = E.explain({}, pkt(dport=22))
    assert decided(answer) == ("accept", "INPUT", "ACCEPT")


def test_other_hooks_walk_their_own_chain():
    t = tables("-A OUTPUT -p tcp -m tcp --dport 25 -j DROP", policy="ACCEPT")
    out = pkt(dport=25)
    out.hook = "OUTPUT"
    assert decided(E.explain(t, out)) == ("drop", "OUTPUT", 1)
    assert decided(E.explain(t, pkt(dport=25))) == ("accept", "INPUT", "ACCEPT")


def test_uncertain_jumps_follow_both_ways_and_go_on():
    t = tables(
        """
-A INPUT -p tcp -m limit --limit 1/sec -j SUB
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A SUB -p tcp -m tcp --dport 23 -j DROP
""",
        chains=("SUB",),
    )
    assert decided(E.explain(t, pkt(dport=22))) == ("accept", "INPUT", 2)
    answer = E.explain(t, pkt(dport=23))
    assert answer["verdicts"] == ["drop"] and len(answer["outcomes"]) == 2


# ---------------------------------------------------------------- the port index


def random_chain(rng, n):
    lines = []
    for _rule in range(n):
        kind = rng.random()
        port = rng.randint(1, 40)
        target = rng.choice(["ACCEPT", "DROP", "REJECT", "LOG", "RETURN"])
        if kind < 0.6:
            lines.append("-A INPUT -p tcp -m tcp --dport %d -j %s" % (port, target))
        elif kind < 0.7:
            lines.append("-A INPUT -p udp -m udp --dport %d -j %s" % (port, target))
        elif kind < 0.75:
            lines.append("-A INPUT -s 192.0.2.%d/32 -j %s" % (rng.randint(1, 9), target))
        elif kind < 0.8:
            host, plen = rng.randint(0, 15), rng.choice([28, 29, 30, 31])
            side = rng.choice(["-s", "-d", "! -s"])
            lines.append("-A INPUT %s 192.0.2.%d/%d -j %s" % (side, host, plen, target))
        elif kind < 0.85:
            iface = rng.choice(["eth0", "eth1", "eth+", "!eth0"])
            neg = "! " if iface.startswith("!") else ""
            lines.append("-A INPUT %s-i %s -j %s" % (neg, iface.lstrip("!"), target))
        elif kind < 0.88:
            states = rng.sample(["NEW", "ESTABLISHED", "RELATED", "INVALID"], rng.randint(1, 2))
            lines.append("-A INPUT -m conntrack --ctstate %s -j %s" % (",".join(states), target))
        elif kind < 0.9:
            lines.append("-A INPUT -p tcp -m tcp ! --dport %d -j %s" % (port, target))
        else:
            lines.append(
                "-A INPUT -p tcp -m multiport --dports %d,%d -j %s" % (port, port + 1, target)
            )
    return tables("\n".join(lines), policy=rng.choice(["ACCEPT", "DROP"]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6))
def test_the_port_index_gives_what_the_plain_walk_gives(seed):
    rng = random.Random(seed)
    t = random_chain(rng, rng.randint(E.INDEX_FROM, 3 * E.INDEX_FROM))
    indexed = E.Evaluator(t, "ipv4")
    plain = E.Evaluator(t, "ipv4")
    plain.chain("INPUT").index = None  # no index: every rule is tried
    assert indexed.chain("INPUT").index is not None
    for _packet in range(30):
        p = pkt(rng.choice(["tcp", "udp"]), "192.0.2.%d" % rng.randint(1, 15), rng.randint(1, 42))
        if rng.random() < 0.2:
            p.src = None  # unknown: every source rule must be tried
        if rng.random() < 0.2:
            p.dport = None
        p.in_iface = rng.choice([None, "eth0", "eth1", "lo"])
        p.state = rng.choice([None, "NEW", "ESTABLISHED", "INVALID"])
        assert indexed.explain(p) == plain.explain(p)


def test_the_readable_part_of_a_raw_rule_still_rules_a_packet_out():
    t = tables(
        "-A INPUT -p udp -m udp --dport 53 -m recent --rcheck --name dns --rsource -j DROP\n"
        "-A INPUT -p tcp -m tcp --dport 2222 -m hl --hl-eq 255 -j DROP",
        policy="ACCEPT",
    )
    assert decided(E.explain(t, pkt(dport=22))) == ("accept", "INPUT", "ACCEPT")
    answer = E.explain(t, pkt("udp", dport=53))
    assert answer["certainty"] == "may" and answer["uncertain"][0]["keys"] == ["raw"]
