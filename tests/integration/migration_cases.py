"""The cases of the migration suite (test_migration.py): ansible.builtin.iptables
tasks that must move to hostfw.netfilter.rule by their module name alone (plus
the play's ``module_defaults``), and the lists of cases that do not count.

A case is (id, args, setup). ``args`` is the ansible.builtin.iptables task as a
user writes it; ``setup`` the chains loaded before it (``{"CHAIN" or
"table:CHAIN": specs or (policy, specs)}``, once for both families or as
``{family: {...}}``), written as iptables-save prints them. ``@`` stands for the
case's own user chain (its id in capitals), so that the cases of one round do
not meet; a case about a built-in chain names it.

Sources, reworded: the EXAMPLES of ansible.builtin.iptables (ansible-core 2.19,
ids ``ex-*``), the steps of its upstream integration target
(test/integration/targets/iptables/tasks/chain_management.yml, ``up-*``), and
its documented parameters (the rest).
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    id: str
    args: dict
    setup: dict = {}  # noqa: RUF012 (never mutated: a NamedTuple default)


def tcp(port, target="ACCEPT"):
    return f"-p tcp -m tcp --dport {port} -j {target}"


# ipsets of the namespace (ipsets live per network namespace), as `ipset restore`
# lines, made once before the first round.
IPSETS = """\
create admin_hosts hash:ip
create blocked hash:net
create pairs hash:ip,port
create admin6 hash:ip family inet6
"""

SIX_RULES = {"@": [tcp(p) for p in (21, 22, 25, 53, 80, 443)]}
EMPTY = {"@": []}

CASES = [
    # ---------------------------------------------------------------- EXAMPLES
    Case("ex-block-ip", {"chain": "@", "source": "192.0.2.7", "jump": "DROP"}, EMPTY),
    Case(
        "ex-ctstate-string",
        {"chain": "@", "ctstate": "ESTABLISHED,RELATED", "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "ex-ssh-new-syn",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_port": 22,
            "ctstate": "NEW",
            "syn": "match",
            "jump": "ACCEPT",
            "comment": "Accept new SSH connections.",
        },
        EMPTY,
    ),
    Case(
        "ex-ip-ranges",
        {
            "chain": "@",
            "src_range": "192.0.2.100-192.0.2.199",
            "dst_range": "198.51.100.1-198.51.100.50",
            "jump": "ACCEPT",
        },
        EMPTY,
    ),
    # ---------------------------------------------------------------- match order
    Case(
        "order-iprange-ctstate",
        {"chain": "@", "src_range": "192.0.2.1-192.0.2.9", "ctstate": "NEW", "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "order-set-ctstate",
        {
            "chain": "@",
            "match_set": "blocked",
            "match_set_flags": "src",
            "ctstate": ["NEW"],
            "jump": "DROP",
        },
        EMPTY,
    ),
    Case(
        "order-icmp-limit",
        {
            "chain": "@",
            "protocol": "icmp",
            "icmp_type": "echo-request",
            "limit": "5/second",
            "jump": "ACCEPT",
        },
        EMPTY,
    ),
    Case(
        "ex-match-set-as-doc",
        {
            "chain": "@",
            "match_set": "admin_hosts",
            "match_set_flags": "src",
            "destination_port": 22,
            "jump": "ALLOW",
        },
        EMPTY,
    ),
    Case("ex-chain-create", {"chain": "@", "chain_management": True}),
    Case("ex-chain-delete", {"chain": "@", "chain_management": True, "state": "absent"}, EMPTY),
    Case(
        "ex-insert-rule-num",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_port": 8080,
            "jump": "ACCEPT",
            "action": "insert",
            "rule_num": 5,
        },
        SIX_RULES,
    ),
    Case("ex-policy-drop", {"chain": "INPUT", "policy": "DROP"}),
    Case(
        "ex-reject-tcp-reset",
        {"chain": "@", "protocol": "tcp", "reject_with": "tcp-reset", "ip_version": "ipv4"},
        EMPTY,
    ),
    Case(
        "ex-tcp-flags",
        {
            "chain": "@",
            "jump": "DROP",
            "protocol": "tcp",
            "tcp_flags": {"flags": "ALL", "flags_set": ["ACK", "RST", "SYN", "FIN"]},
        },
        EMPTY,
    ),
    Case("ex-flush-chain", {"chain": "@", "flush": True}, {"@": [tcp(22), "-j DROP"]}),
    Case(
        "ex-flush-nat",
        {"table": "nat", "chain": "POSTROUTING", "flush": True},
        {"nat:POSTROUTING": ["-o eth9 -j MASQUERADE"]},
    ),
    Case(
        "ex-log-limit",
        {
            "chain": "@",
            "action": "append",
            "state": "present",
            "limit": "2/second",
            "limit_burst": "20",
            "log_prefix": "IPTABLES:INFO: ",
            "log_level": "info",
        },
        EMPTY,
    ),
    Case(
        "ex-multiport",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_ports": ["80", "443", "8081:8083"],
            "jump": "ACCEPT",
        },
        EMPTY,
    ),
    # ---------------------------------------------------------------- upstream target
    # (its first and last steps, creating and deleting the chain, are ex-chain-create/-delete)
    Case(
        "up-rule-any",
        {
            "chain": "@",
            "source": "0.0.0.0",
            "destination": "0.0.0.0",
            "jump": "DROP",
            "comment": "FOOBAR-CHAIN RULE",
        },
        EMPTY,
    ),
    Case(
        "up-flush",
        {"chain": "@", "flush": True},
        {
            "ipv4": {
                "@": [
                    '-s 0.0.0.0/32 -d 0.0.0.0/32 -m comment --comment "FOOBAR-CHAIN RULE" -j DROP'
                ]
            },
            "ipv6": EMPTY,
        },
    ),
    # ---------------------------------------------------------------- conntrack
    Case(
        "ctstate-list",
        {"chain": "@", "ctstate": ["ESTABLISHED", "RELATED"], "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "match-state",
        {"chain": "@", "match": ["state"], "ctstate": ["NEW", "ESTABLISHED"], "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "match-conntrack",
        {"chain": "@", "match": "conntrack", "ctstate": ["RELATED"], "jump": "ACCEPT"},
        EMPTY,
    ),
    # ---------------------------------------------------------------- tcp, ports
    Case(
        "match-tcp",
        {
            "chain": "@",
            "protocol": "tcp",
            "match": "tcp",
            "destination_port": "25",
            "jump": "REJECT",
        },
        EMPTY,
    ),
    Case("syn-negate", {"chain": "@", "protocol": "tcp", "syn": "negate", "jump": "ACCEPT"}, EMPTY),
    Case(
        "port-range",
        {
            "chain": "@",
            "protocol": "udp",
            "source_port": "1024:65535",
            "destination_port": 53,
            "jump": "ACCEPT",
        },
        EMPTY,
    ),
    Case(
        "port-name",
        {"chain": "@", "protocol": "tcp", "destination_port": "https", "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "multiport-names",
        {"chain": "@", "protocol": "tcp", "destination_ports": ["http", "https"], "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "protocol-number",
        {"chain": "@", "protocol": "6", "destination_port": 22, "jump": "ACCEPT"},
        EMPTY,
    ),
    # ---------------------------------------------------------------- iprange, limit, owner
    Case(
        "src-range-negated",
        {"chain": "@", "src_range": "!192.0.2.10-192.0.2.20", "jump": "DROP"},
        EMPTY,
    ),
    Case(
        "iprange-explicit",
        {
            "chain": "@",
            "match": ["iprange"],
            "dst_range": "198.51.100.5-198.51.100.9",
            "jump": "DROP",
        },
        EMPTY,
    ),
    Case("limit-burst-only", {"chain": "@", "limit_burst": 10, "jump": "ACCEPT"}, EMPTY),
    Case("uid-number", {"chain": "@", "uid_owner": 0, "jump": "ACCEPT"}, EMPTY),
    Case("uid-name", {"chain": "@", "uid_owner": "root", "jump": "ACCEPT"}, EMPTY),
    Case("uid-name-nobody", {"chain": "@", "uid_owner": "nobody", "jump": "DROP"}, EMPTY),
    Case("uid-negated", {"chain": "@", "uid_owner": "!0", "jump": "REJECT"}, EMPTY),
    Case("gid-name", {"chain": "@", "gid_owner": "root", "jump": "ACCEPT"}, EMPTY),
    Case(
        "uid-and-gid", {"chain": "@", "uid_owner": "root", "gid_owner": 0, "jump": "ACCEPT"}, EMPTY
    ),
    # ---------------------------------------------------------------- icmp, reject, log
    Case(
        "icmp-type",
        {"chain": "@", "protocol": "icmp", "icmp_type": "echo-request", "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "reject-with",
        {"chain": "@", "jump": "REJECT", "reject_with": "icmp-host-prohibited"},
        EMPTY,
    ),
    Case("log-level-only", {"chain": "@", "log_level": "warning"}, EMPTY),
    Case(
        "log-explicit-jump",
        {"chain": "@", "protocol": "tcp", "jump": "LOG", "log_prefix": "drop: ", "log_level": "7"},
        EMPTY,
    ),
    Case("log-wrong-jump", {"chain": "@", "jump": "DROP", "log_prefix": "x: "}, EMPTY),
    # ---------------------------------------------------------------- targets, interfaces
    Case(
        "goto",
        {"chain": "@", "protocol": "tcp", "destination_port": 80, "goto": "@-T"},
        {"@": [], "@-T": []},
    ),
    Case(
        "jump-user-chain", {"chain": "@", "in_interface": "lo", "jump": "@-T"}, {"@": [], "@-T": []}
    ),
    Case("in-interface-neg-plus", {"chain": "@", "in_interface": "!veth+", "jump": "DROP"}, EMPTY),
    Case("out-interface-neg", {"chain": "@", "out_interface": "!eth0", "jump": "ACCEPT"}, EMPTY),
    Case("fragment", {"chain": "@", "fragment": "yes", "jump": "DROP"}, EMPTY),
    # ---------------------------------------------------------------- negations
    Case("negate-source", {"chain": "@", "source": "!192.0.2.0/24", "jump": "DROP"}, EMPTY),
    Case(
        "negate-proto-dest",
        {"chain": "@", "protocol": "!udp", "destination": "!198.51.100.0/24", "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "negate-port",
        {"chain": "@", "protocol": "tcp", "destination_port": "!22", "jump": "DROP"},
        EMPTY,
    ),
    # ---------------------------------------------------------------- state, placement
    Case(
        "absent-rule",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_port": 23,
            "jump": "ACCEPT",
            "state": "absent",
        },
        {"@": [tcp(22), tcp(23), tcp(24)]},
    ),
    Case(
        "absent-duplicates",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_port": 23,
            "jump": "ACCEPT",
            "state": "absent",
        },
        {"@": [tcp(23), tcp(22), tcp(23)]},
    ),
    Case(
        "absent-missing",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_port": 23,
            "jump": "ACCEPT",
            "state": "absent",
        },
        {"@": [tcp(22)]},
    ),
    Case(
        "present-already",
        {"chain": "@", "protocol": "tcp", "destination_port": 22, "jump": "ACCEPT"},
        {"@": [tcp(21), tcp(22)]},
    ),
    Case(
        "insert-top",
        {
            "chain": "@",
            "protocol": "udp",
            "destination_port": 53,
            "jump": "ACCEPT",
            "action": "insert",
        },
        {"@": [tcp(22)]},
    ),
    Case(
        "insert-present-elsewhere",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_port": 25,
            "jump": "ACCEPT",
            "action": "insert",
        },
        {"@": [tcp(22), tcp(25)]},
    ),
    Case(
        "insert-num-present",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_port": 80,
            "jump": "ACCEPT",
            "action": "insert",
            "rule_num": "1",
        },
        {"@": [tcp(22), tcp(25), tcp(80)]},
    ),
    Case(
        "wait-option",
        {"chain": "@", "wait": "5", "protocol": "tcp", "destination_port": 3306, "jump": "DROP"},
        EMPTY,
    ),
    # ---------------------------------------------------------------- policy, chains, flush
    Case("policy-same", {"chain": "OUTPUT", "policy": "ACCEPT"}),
    Case("policy-ipv6", {"chain": "FORWARD", "policy": "DROP", "ip_version": "ipv6"}),
    Case("chain-exists", {"chain": "@", "chain_management": True}, EMPTY),
    Case("numeric-option", {"chain": "@", "chain_management": True, "numeric": True}),
    Case("chain-delete-missing", {"chain": "@", "chain_management": True, "state": "absent"}),
    Case(
        "chain-delete-nonempty",
        {"chain": "@", "chain_management": True, "state": "absent"},
        {"@": ["-j RETURN"]},
    ),
    Case("chain-unmanaged", {"chain": "@"}),
    Case("chain-unmanaged-absent", {"chain": "@", "state": "absent"}, EMPTY),
    Case("flush-empty", {"chain": "@", "flush": True}, EMPTY),
    Case(
        "flush-table",
        {"flush": True},
        {
            "ipv4": {"INPUT": [tcp(22)], "@": [tcp(80)], "@-T": ["-j RETURN"]},
            "ipv6": {"INPUT": [tcp(22)], "@": [tcp(80)]},
        },
    ),
    # ---------------------------------------------------------------- families
    Case(
        "both-families",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_port": 25,
            "jump": "REJECT",
            "ip_version": "both",
        },
        EMPTY,
    ),
    Case(
        "ipv6-rule",
        {
            "chain": "@",
            "ip_version": "ipv6",
            "source": "2001:db8::/32",
            "protocol": "tcp",
            "destination_port": 443,
            "jump": "ACCEPT",
        },
        EMPTY,
    ),
    Case(
        "ipv6-icmp",
        {
            "chain": "@",
            "ip_version": "ipv6",
            "protocol": "ipv6-icmp",
            "icmp_type": "echo-request",
            "jump": "ACCEPT",
        },
        EMPTY,
    ),
    Case(
        "ipv6-beside-similar",
        {
            "chain": "@",
            "ip_version": "ipv6",
            "protocol": "tcp",
            "destination_port": 80,
            "jump": "ACCEPT",
        },
        {"ipv4": EMPTY, "ipv6": {"@": [tcp(22)]}},
    ),
    Case(
        "ipv6-absent",
        {
            "chain": "@",
            "ip_version": "ipv6",
            "protocol": "tcp",
            "destination_port": 80,
            "jump": "ACCEPT",
            "state": "absent",
        },
        {"ipv4": EMPTY, "ipv6": {"@": [tcp(22), tcp(80)]}},
    ),
    # ---------------------------------------------------------------- ipsets
    Case(
        "match-set-src",
        {
            "chain": "@",
            "protocol": "tcp",
            "destination_port": 22,
            "match_set": "admin_hosts",
            "match_set_flags": "src",
            "jump": "ACCEPT",
        },
        EMPTY,
    ),
    Case(
        "match-set-negated",
        {"chain": "@", "match_set": "!blocked", "match_set_flags": "dst", "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "match-set-two-dims",
        {"chain": "@", "match_set": "pairs", "match_set_flags": "src,dst", "jump": "ACCEPT"},
        EMPTY,
    ),
    Case(
        "match-set-explicit",
        {
            "chain": "@",
            "match": ["set"],
            "match_set": "admin_hosts",
            "match_set_flags": "src",
            "jump": "DROP",
        },
        EMPTY,
    ),
    Case(
        "ipv6-match-set",
        {
            "chain": "@",
            "ip_version": "ipv6",
            "match_set": "admin6",
            "match_set_flags": "src",
            "jump": "ACCEPT",
        },
        EMPTY,
    ),
    # ---------------------------------------------------------------- refused on purpose
    Case(
        "ex-redirect",
        {
            "table": "nat",
            "chain": "PREROUTING",
            "in_interface": "eth0",
            "protocol": "tcp",
            "match": "tcp",
            "destination_port": 80,
            "jump": "REDIRECT",
            "to_ports": 8600,
            "comment": "Redirect web traffic to port 8600",
        },
    ),
    Case(
        "ex-dscp-mark",
        {
            "chain": "OUTPUT",
            "jump": "DSCP",
            "table": "mangle",
            "set_dscp_mark": 8,
            "protocol": "tcp",
        },
    ),
    Case(
        "ex-dscp-class",
        {
            "chain": "POSTROUTING",
            "jump": "DSCP",
            "table": "mangle",
            "set_dscp_mark_class": "CS1",
            "protocol": "tcp",
        },
    ),
    Case(
        "snat",
        {
            "table": "nat",
            "chain": "POSTROUTING",
            "out_interface": "eth0",
            "jump": "SNAT",
            "to_source": "192.0.2.1",
        },
    ),
    Case(
        "dnat",
        {
            "table": "nat",
            "chain": "OUTPUT",
            "protocol": "tcp",
            "destination_port": 80,
            "jump": "DNAT",
            "to_destination": "192.0.2.1:8080",
        },
    ),
    Case(
        "tee",
        {"table": "mangle", "chain": "PREROUTING", "jump": "TEE", "gateway": "192.0.2.1"},
    ),
    Case("hostname-source", {"chain": "@", "source": "localhost", "jump": "DROP"}, EMPTY),
]


class Refusal(NamedTuple):
    """Ours refuses the task: its message names ``key`` and holds ``words``."""

    key: str
    words: tuple = ("ansible.builtin.iptables",)


# Cases refused on purpose: ours fails naming the key (for the NAT- and
# mangle-only keys: saying to keep ansible.builtin.iptables for them), in check
# mode and for real, and leaves the namespace as it was. They run in rounds of
# their own, so "as it was" is the whole of both saves.
REFUSED = {
    "ex-redirect": Refusal("to_ports"),
    "ex-dscp-mark": Refusal("set_dscp_mark"),
    "ex-dscp-class": Refusal("set_dscp_mark_class"),
    "snat": Refusal("to_source"),
    "dnat": Refusal("to_destination"),
    "tee": Refusal("gateway"),
    # not a NAT/mangle key: pointing to the builtin would be no advice
    "hostname-source": Refusal("source", ("host names",)),
}


class OrderOnly(NamedTuple):
    """Ours writes the same matches as the builtin, in another module order."""

    reason: str


# Cases whose saves agree only as kernel rules: the same `-m` chunks in another
# order. The test asserts that the text differs and the chunks agree (and that
# ours adopts the builtin's order: step d).
ORDER_ONLY: dict[str, OrderOnly] = {
    "order-iprange-ctstate": OrderOnly(
        "the builtin writes -m conntrack before -m iprange; ours writes the key table's order"
    ),
    "order-set-ctstate": OrderOnly(
        "the builtin writes -m conntrack before -m set; ours writes the key table's order"
    ),
    "order-icmp-limit": OrderOnly(
        "the builtin writes -m limit before -m icmp, so its limit also counts ICMP packets "
        "of other types; ours tests the type first. Over the builtin's rule ours keeps it "
        "as written (no change); give the rule a name to have it rewritten"
    ),
}


class OnPurpose(NamedTuple):
    """Ours differs from the builtin on purpose. ``builtin`` and ``ours``: the
    case's own chain after each ({family: [rule specs]}, once for both or per
    family); ``adopt_changed``: what ours reports over the builtin's result;
    ``adopted``: the chain after that (None: as ``ours``)."""

    reason: str
    builtin: dict
    ours: dict
    adopt_changed: bool
    adopted: dict | None = None


ON_PURPOSE = {
    "absent-duplicates": OnPurpose(
        "state: absent removes every rule with the match (the builtin's -D removes the "
        "first copy per run: a duplicate stays until the task runs again)",
        builtin={"ipv4": [tcp(22), tcp(23)]},
        ours={"ipv4": [tcp(22)]},
        adopt_changed=True,
    ),
    "uid-and-gid": OnPurpose(
        "one owner match holds both keys (the builtin writes one -m owner per key); the "
        "two forms are the same test, so ours recognises the builtin's rule and keeps it",
        builtin={"ipv4": ["-m owner --uid-owner 0 -m owner --gid-owner 0 -j ACCEPT"]},
        ours={"ipv4": ["-m owner --uid-owner 0 --gid-owner 0 -j ACCEPT"]},
        adopt_changed=False,
        adopted={"ipv4": ["-m owner --uid-owner 0 -m owner --gid-owner 0 -j ACCEPT"]},
    ),
}


class Fault(NamedTuple):
    """ansible.builtin.iptables itself fails or misbehaves on ``variants``.

    ``symptom``: ``fails`` (the task fails, its message holds ``words``),
    ``phantom`` (reports changed, the saves unchanged) or ``blind`` (reports no
    change and changes nothing although the task asks for a change).

    ``ours``, what hostfw.netfilter.rule does instead (check mode and for real):
    ``fails`` (its message holds ``ours_words``, nothing changes), ``no-op``
    (changed false, nothing changes, a warning holding ``ours_words``), or
    {family: [rule specs]}: the case's own chain afterwards (a change, and none
    when run again)."""

    variants: tuple
    symptom: str
    reason: str
    words: tuple = ()
    ours: str | dict = "fails"
    ours_words: tuple = ()


BOTH = ("nft", "legacy")
BUILTIN_FAULTS = {
    "ex-match-set-as-doc": Fault(
        BOTH,
        "fails",
        "the EXAMPLE as documented has destination_port without protocol (and the "
        "target ALLOW, which does not exist): iptables refuses --destination-port",
        words=("--destination-port",),
        ours_words=("'destination_port'", "protocol"),
    ),
    "fragment": Fault(
        BOTH,
        "fails",
        "fragment is passed as '-f VALUE', but -f takes no value",
        words=("Bad argument",),
        ours={"ipv4": ["-f -j DROP"]},
    ),
    "log-wrong-jump": Fault(
        BOTH,
        "fails",
        "log_prefix with a jump other than LOG is refused",
        words=("LOG jump target",),
        ours_words=("'log_prefix'", "LOG"),
    ),
    "chain-delete-nonempty": Fault(
        BOTH,
        "fails",
        "-X of a chain that still has rules fails",
        ours_words=("'chain_management'", "empty chain"),
    ),
    "chain-unmanaged": Fault(
        BOTH,
        "phantom",
        "an empty rule without chain_management reports changed for a missing chain "
        "and creates nothing",
        ours="no-op",
        ours_words=("chain_management",),
    ),
    "chain-unmanaged-absent": Fault(
        BOTH,
        "phantom",
        "an empty rule with state: absent and without chain_management reports "
        "changed for an existing chain and deletes nothing",
        ours="no-op",
        ours_words=("chain_management",),
    ),
    "flush-empty": Fault(
        BOTH, "phantom", "flush always reports changed, also of an empty chain", ours="no-op"
    ),
    "ipv6-beside-similar": Fault(
        ("legacy",),
        "blind",
        "ip6tables-legacy 1.8.9 -C ignores match data: a rule with the same protocol "
        "and target but another port counts as present, so nothing is added",
        ours={"ipv6": [tcp(22), tcp(80)]},
    ),
}
