# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection guard: would the planned filter rules drop the SSH connection the
task arrived on? Evaluates a new TCP connection from the controller to sshd
through INPUT of the planned table. Pure.

Matches the guard cannot decide (interfaces, rate limits, ipsets, foreign raw
rules) are followed both ways, so the answer is a set of possible verdicts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import keys as K
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.gather import structured
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.packet import Packet

ACCEPT = "accept"


DROP = "drop"


# targets after which the packet goes on to the next rule
NON_TERMINATING = frozenset(
    "LOG NFLOG MARK CONNMARK CT NOTRACK TCPMSS TRACE CLASSIFY TEE AUDIT CHECKSUM DSCP TOS "
    "TTL HL SET SECMARK CONNSECMARK".split()
)


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


def _match(d, client, server, sport):
    """True, False or None (cannot tell) for a new TCP SYN client -> server:sport,
    each key decided by its packet test in the key table."""
    pkt = Packet(
        "ipv4" if client.version == 4 else "ipv6",
        client,
        server,
        "tcp",
        dport=sport,
        state="NEW",
        syn=True,
        fragment=False,
    )
    unknown = False
    for key, value in d.items():
        row = K.BY_NAME[key]
        if not row.matches:
            continue
        hit = row.test(value, pkt) if row.test is not None else None
        if hit is None:
            unknown = True
        elif not hit:
            return False
    return None if unknown else True


def verdicts(table, chain_name, client, server, sport, family, depth=0):
    """Possible outcomes of traversing chain_name: a set of 'accept', 'drop', and
    None for 'fell off the end / returned'."""
    chain = table.chains.get(chain_name)
    if chain is None or depth > 30:
        return {ACCEPT, DROP}
    out = set()
    for rule in chain.rules:
        d = structured(rule.tokens, family)
        hit = None if d is None else _match(d, client, server, sport)
        if hit is False:
            continue
        target = rule.target
        if target == "ACCEPT":
            res = {ACCEPT}
        elif target in ("DROP", "REJECT"):
            res = {DROP}
        elif target == "RETURN":
            res = {None}
        elif target is None or target in NON_TERMINATING:
            continue
        elif target in table.chains:
            res = verdicts(table, target, client, server, sport, family, depth + 1)
            if rule.goto:
                pass
            elif None in res:
                res = (res - {None}) | {"continue"}
        else:
            res = {ACCEPT, DROP}
        if hit is None or "continue" in res:
            out |= res - {"continue"}
            continue
        return out | res
    return out | {None}


def check(table, family, conn):
    """-> (certain_drop, possible_drop) for the INPUT chain of a filter table."""
    fam, client, server, sport = conn
    if fam != family or table is None or "INPUT" not in table.chains:
        return False, False
    res = verdicts(table, "INPUT", client, server, sport, family)
    if None in res:
        res = (res - {None}) | {DROP if table.chains["INPUT"].policy == "DROP" else ACCEPT}
    return res == {DROP}, DROP in res
