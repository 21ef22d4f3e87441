# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection guard: would the planned filter rules cut the SSH connection the
task arrived on? The packet evaluator judges the session's packets through
INPUT, its replies through OUTPUT, and a new connection from the same client.
Pure.

Matches the evaluator cannot decide (interfaces, rate limits, ipsets, foreign raw
rules) are followed both ways: a possible cut is a warning, a certain one a
refusal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.hostfw.netfilter.plugins.module_utils._eval.evaluate import Evaluator
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.packet import Packet


def parse_ssh_connection(value):
    """SSH_CONNECTION 'client cport server sport' -> (family, client, server, sport)."""
    try:
        client, _cport, server, sport = value.split()
        c = ipaddress.ip_address(client.split("%")[0])
        s = ipaddress.ip_address(server.split("%")[0])
        sport = int(sport)
    except (ValueError, AttributeError):
        return None
    if c.version == 6 and c.ipv4_mapped is not None:
        c, s = c.ipv4_mapped, (s.ipv4_mapped or s)
    family = "ipv4" if c.version == 4 else "ipv6"
    return family, c, s, sport


def connection_packets(conn):
    """The packets of the SSH session the task runs over, as (label, Packet):
    its client's packets (ESTABLISHED) through INPUT, the server's replies
    through OUTPUT, and a NEW connection from the same client to the same port
    (the next task may open one)."""
    family, client, server, sport = conn
    return [
        (
            "the session's packets from %s" % client,
            Packet(family, client, server, "tcp", dport=sport, state="ESTABLISHED",
                   tcp_flags=("ACK",), fragment=False, hook="INPUT"),
        ),
        (
            "the replies to %s" % client,
            Packet(family, server, client, "tcp", sport=sport, state="ESTABLISHED",
                   tcp_flags=("ACK",), fragment=False, hook="OUTPUT"),
        ),
        (
            "a new connection from %s to port %d" % (client, sport),
            Packet(family, client, server, "tcp", dport=sport, state="NEW",
                   tcp_flags=("SYN",), fragment=False, hook="INPUT"),
        ),
    ]  # fmt: skip


def judge(table, family, conn):
    """[(label, answer)] of the session's packets against a filter table of
    `family` (none for a connection of the other family)."""
    if conn is None or conn[0] != family or table is None:
        return []
    ev = Evaluator({"filter": table}, family)
    return [(label, ev.explain(pkt)) for label, pkt in connection_packets(conn)]


def _cut(answer):
    return answer["verdict"] != "accept", bool(set(answer["verdicts"]) - {"accept"})


def check(table, family, conn):
    """-> (certain_drop, possible_drop): whether the table surely (or possibly)
    drops or rejects one of the session's packets."""
    certain = possible = False
    for _label, answer in judge(table, family, conn):
        drop, maybe = _cut(answer)
        certain = certain or (drop and answer["certainty"] == "definite")
        possible = possible or maybe
    return certain, possible


def describe(answer):
    """'rule 3 of INPUT (-A INPUT -j DROP)' or 'the INPUT policy DROP'."""
    d = answer["decided_by"]
    if d["position"] is None:
        return "the %s policy %s" % (d["chain"], d["policy"])
    name = " '%s'" % d["name"] if d["name"] else ""
    return "rule %d%s of %s (%s)" % (d["position"], name, d["chain"], d["rule"])


def refusal(table, family, conn):
    """The first of the session's packets the table surely cuts, as a phrase
    naming the deciding rule; None when none is."""
    for label, answer in judge(table, family, conn):
        drop, _maybe = _cut(answer)
        if drop and answer["certainty"] == "definite":
            return "%s would be %sed by %s" % (
                label,
                "reject" if answer["verdict"] == "reject" else "dropp",
                describe(answer),
            )
    return None
