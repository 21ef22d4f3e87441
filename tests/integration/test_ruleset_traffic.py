"""ruleset: the rules it applies stop and pass real packets.

server and client are joined by a veth pair; a default-deny INPUT policy goes
onto the server through the module (restore backend, both variants), then TCP
connects from the client show what gets through, over IPv4 and IPv6.
"""

from __future__ import annotations

import contextlib
import sys

import pytest
from _netns import assert_blocked, assert_reachable
from ruleset_cases import FAMILIES, by_name, chains, task

POLICY = [
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
                    # IPv6 neighbour discovery, without which nothing reaches the server
                    {
                        "name": "nd-solicit",
                        "ip_version": "ipv6",
                        "icmp_type": "neighbour-solicitation",
                        "jump": "ACCEPT",
                    },
                    {
                        "name": "nd-advert",
                        "ip_version": "ipv6",
                        "icmp_type": "neighbour-advertisement",
                        "jump": "ACCEPT",
                    },
                    {
                        "name": "ssh",
                        "protocol": "tcp",
                        "destination_port": 22,
                        "source": ["192.0.2.2", "2001:db8::2"],
                        "jump": "ACCEPT",
                    },
                    {"name": "web", "protocol": "tcp", "destination_port": 8080, "jump": "ACCEPT"},
                ],
            }
        ],
    }
]
OTHER_SOURCE = {"ipv4": "192.0.2.3", "ipv6": "2001:db8::3"}

_CONNECT_FROM = """
import socket, sys
src, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(1.5)
s.bind((src, 0))
try:
    s.connect((addr, port))
    print("open")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error:%s" % e.errno)
"""


def connect_from(ns, src, addr, port):
    argv = [sys.executable, "-I", "-S", "-c", _CONNECT_FROM, src, addr, str(port)]
    return ns.run(argv, timeout=15).stdout.strip()


@pytest.mark.parametrize("backend", ["restore"])
def test_default_deny_policy_filters_real_traffic(netpair, run_playbook, variant, backend):
    server, client = netpair
    with contextlib.ExitStack() as stack:
        for fam in FAMILIES:
            for port in (22, 8080, 9090):
                stack.enter_context(server.listen(port, fam))
        for fam in FAMILIES:  # before: everything open, so a timeout later is the firewall
            for port in (22, 8080, 9090):
                assert_reachable(client, server.addr(fam), port)

        res = by_name(run_playbook(server, [task("overridden", POLICY, name="p", backend=backend)]))
        assert res["p"]["failed"] is False, res["p"]
        assert res["p"]["changed"] is True
        for fam in FAMILIES:
            assert chains(server.save(fam))["INPUT"][0] == "DROP"

        for fam in FAMILIES:
            addr = server.addr(fam)
            assert_reachable(client, addr, 8080)
            assert_reachable(client, addr, 22)
            assert_blocked(client, addr, 9090)  # listening, yet the SYN is dropped

        # ssh only from 192.0.2.2 / 2001:db8::2: not from another address of the client
        # (added only now: a newer IPv6 address would become the default source)
        for fam, src in OTHER_SOURCE.items():
            argv = ["ip", "addr", "add", f"{src}/{64 if fam == 'ipv6' else 24}", "dev", "eth0"]
            client.run(argv + (["nodad"] if fam == "ipv6" else []))
        for fam in FAMILIES:
            addr = server.addr(fam)
            assert connect_from(client, client.addr(fam), addr, 22) == "open", fam
            assert connect_from(client, OTHER_SOURCE[fam], addr, 22) == "timeout", fam
            assert connect_from(client, OTHER_SOURCE[fam], addr, 8080) == "open", fam
