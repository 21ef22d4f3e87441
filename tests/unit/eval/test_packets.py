"""A user's packet mapping as a Packet (module_utils/_eval/packets.py): the
defaults, what is inferred and what stays unknown, every error naming the
packet and the key; and the packets judged by the key table's tests."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hostfw.netfilter.plugins.module_utils._eval import packets as PK
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import keys as K
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.gather import structured
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import parse_save
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

IP = ipaddress.ip_address


def fields(pkt):
    return {name: getattr(pkt, name) for name in type(pkt).__slots__}


def test_the_common_case_is_a_new_tcp_syn_through_input():
    pkt = PK.packet_from({"protocol": "tcp", "destination_port": 22, "source": "192.0.2.10"})
    assert fields(pkt) == {
        "family": "ipv4",
        "src": IP("192.0.2.10"),
        "dst": None,
        "proto": "tcp",
        "sport": None,
        "dport": 22,
        "state": "NEW",
        "syn": True,
        "fragment": False,
        "in_iface": None,
        "out_iface": None,
        "tcp_flags": frozenset({"SYN"}),
        "icmp_type": None,
        "icmp_code": None,
        "uid": None,
        "gid": None,
        "sets": None,
        "hook": "INPUT",
    }


def test_an_empty_mapping_knows_only_the_defaults():
    pkt = PK.packet_from({})
    assert pkt.as_dict() == {"hook": "INPUT", "state": "NEW", "fragment": False}
    assert pkt.family is None and pkt.proto is None and pkt.tcp_flags is None


def test_none_values_are_left_out():
    pkt = PK.packet_from({"protocol": "udp", "source": None, "destination_port": None})
    assert pkt.src is None and pkt.dport is None and pkt.proto == "udp"


@pytest.mark.parametrize(
    "spec, flags, syn",
    [
        ({"protocol": "tcp"}, {"SYN"}, True),
        ({"protocol": "tcp", "state": "ESTABLISHED"}, {"ACK"}, False),
        ({"protocol": "tcp", "state": "established"}, {"ACK"}, False),
        ({"protocol": "tcp", "state": "RELATED"}, None, None),
        ({"protocol": "tcp", "state": "INVALID"}, None, None),
        ({"protocol": "tcp", "tcp_flags": ["syn", "ack"]}, {"SYN", "ACK"}, False),
        ({"protocol": "tcp", "tcp_flags": "FIN,ACK"}, {"FIN", "ACK"}, False),
        ({"protocol": "tcp", "tcp_flags": []}, set(), False),
        ({"protocol": "tcp", "fragment": True}, None, None),
        ({"protocol": "udp"}, None, None),
    ],
)
def test_tcp_flags_default_by_state(spec, flags, syn):
    pkt = PK.packet_from(spec)
    assert pkt.tcp_flags == (None if flags is None else frozenset(flags))
    assert pkt.syn is syn


@pytest.mark.parametrize(
    "spec, family, proto",
    [
        ({"source": "2001:db8::1"}, "ipv6", None),
        ({"destination": "192.0.2.1"}, "ipv4", None),
        ({"family": "ipv6"}, "ipv6", None),
        ({"protocol": "icmp", "source": "2001:db8::1"}, "ipv6", "ipv6-icmp"),
        ({"protocol": "icmp", "family": "ipv4"}, "ipv4", "icmp"),
        ({"protocol": "icmp"}, None, "icmp"),
        ({"protocol": "ipv6-icmp"}, "ipv6", "ipv6-icmp"),
        ({"protocol": "icmpv6"}, "ipv6", "ipv6-icmp"),
        ({"protocol": 58}, "ipv6", "ipv6-icmp"),
        ({"protocol": "6"}, None, "tcp"),
        ({"protocol": "TCP"}, None, "tcp"),
        ({"protocol": "gre"}, None, "47"),
        ({"protocol": 47}, None, "47"),
        ({"protocol": "sctp"}, None, "sctp"),
        ({"icmp_type": "echo-request", "family": "ipv6"}, "ipv6", "ipv6-icmp"),
        ({"icmp_type": 8, "source": "192.0.2.1"}, "ipv4", "icmp"),
    ],
)
def test_family_and_protocol_inferred(spec, family, proto):
    pkt = PK.packet_from(spec)
    assert (pkt.family, pkt.proto) == (family, proto)


def test_the_default_family_applies_only_when_nothing_tells():
    assert PK.packet_from({}, 1, "ipv6").family == "ipv6"
    assert PK.packet_from({"source": "192.0.2.1"}, 1, "ipv6").family == "ipv4"
    assert PK.packet_from({"protocol": "icmp"}, 1, "ipv6").proto == "ipv6-icmp"
    assert PK.packet_from({"family": "ipv4"}, 1, family="ipv6").family == "ipv4"


@pytest.mark.parametrize(
    "spec, icmp_type, icmp_code",
    [
        ({"icmp_type": "echo-request", "family": "ipv4"}, 8, None),
        ({"icmp_type": "echo-request", "family": "ipv6"}, 128, None),
        ({"icmp_type": "ping", "source": "2001:db8::1"}, 128, None),
        ({"icmp_type": "port-unreachable", "family": "ipv4"}, 3, 3),
        ({"icmp_type": "port-unreachable", "family": "ipv6"}, 1, 4),
        ({"icmp_type": "redirect"}, None, None),  # differs per family: refused below
        ({"icmp_type": "3", "icmp_code": "4"}, 3, 4),
        ({"icmp_type": 0, "icmp_code": 0}, 0, 0),
        ({"icmp_type": "destination-unreachable", "icmp_code": 13, "family": "ipv4"}, 3, 13),
        ({"icmp_type": "host-unreachable", "icmp_code": 1, "family": "ipv4"}, 3, 1),
    ],
)
def test_icmp_names_map_per_family(spec, icmp_type, icmp_code):
    if icmp_type is None:
        with pytest.raises(RuleError, match="key 'icmp_type': 'redirect' is a different type"):
            PK.packet_from(spec)
        return
    pkt = PK.packet_from(spec)
    assert (pkt.icmp_type, pkt.icmp_code) == (icmp_type, icmp_code)


def test_one_name_in_both_families_needs_no_family():
    # none of ICMP_NAMES' names means the same in both, so a familyless name is
    # refused unless the family comes from somewhere
    pkt = PK.packet_from({"protocol": "icmp", "icmp_type": 5, "icmp_code": 1})
    assert (pkt.family, pkt.icmp_type, pkt.icmp_code) == (None, 5, 1)


def test_the_other_keys():
    pkt = PK.packet_from(
        {
            "hook": "output",
            "protocol": "udp",
            "source": "2001:db8::1",
            "destination": "2001:db8::53",
            "source_port": "40000",
            "destination_port": 53,
            "out_interface": "eth0.5",
            "state": "ESTABLISHED",
            "uid": 1000,
            "gid": "100",
            "sets": {"dns": ["2001:db8::53", "2001:db8:1::/48"], "one": "192.0.2.1/32"},
        }
    )
    assert pkt.hook == "OUTPUT"
    assert (pkt.sport, pkt.dport, pkt.out_iface, pkt.in_iface) == (40000, 53, "eth0.5", None)
    assert (pkt.uid, pkt.gid, pkt.state) == (1000, 100, "ESTABLISHED")
    assert pkt.sets == {"dns": ["2001:db8::53", "2001:db8:1::/48"], "one": ["192.0.2.1"]}
    fwd = PK.packet_from({"hook": "FORWARD", "in_interface": "eth0", "out_interface": "eth1"})
    assert (fwd.in_iface, fwd.out_iface) == ("eth0", "eth1")
    assert PK.packet_from({"fragment": "yes"}).fragment is True


def test_packets_from_numbers_the_entries_and_ignores_the_callers_keys():
    got = PK.packets_from([{"source": "192.0.2.1"}, {"source": "::1", "expect": "drop"}],
                          ignore=("expect", "name"))  # fmt: skip
    assert [p.family for p in got] == ["ipv4", "ipv6"]
    with pytest.raises(RuleError, match=r"^packet #2: key 'port': unknown key"):
        PK.packets_from([{}, {"port": 22}])
    with pytest.raises(RuleError, match="packets must be a list"):
        PK.packets_from({"source": "192.0.2.1"})


# (spec, key, message) -- every refusal names the packet and the key
ERRORS = [
    ({"protocl": "tcp"}, "protocl", "unknown key (did you mean 'protocol'?)"),
    ({"destination_prot": 22}, "destination_prot", "did you mean 'destination_port'?"),
    ({"colour": "red"}, "colour", "unknown key; known keys: family, hook"),
    ({"family": "ipv5"}, "family", "must be ipv4 or ipv6"),
    ({"family": "ipv4", "source": "2001:db8::1"}, "source", "is an ipv6 address, but family ipv4"),
    ({"source": "192.0.2.1", "destination": "::1"}, "destination", "but the source is ipv4"),
    ({"hook": "PREROUTING"}, "hook", "must be one of INPUT, OUTPUT, FORWARD"),
    ({"hook": 3}, "hook", "must be one of"),
    ({"source": "192.0.2.0/24"}, "source", "is not an IP address (one address"),
    ({"source": "example.com"}, "source", "not a host name"),
    ({"destination": 17}, "destination", "expected an IPv4 or IPv6 address"),
    ({"protocol": "tcpp"}, "protocol", "unknown protocol"),
    ({"protocol": "all"}, "protocol", "a packet has one protocol"),
    ({"protocol": "!tcp"}, "protocol", "a packet has one protocol"),
    ({"protocol": 300}, "protocol", "out of range 0-255"),
    ({"protocol": True}, "protocol", "expected a protocol name or number"),
    ({"protocol": "ipv6-icmp", "family": "ipv4"}, "protocol", "not a protocol of an IPv4"),
    ({"destination_port": 22}, "destination_port", "needs protocol tcp, udp, sctp, udplite or dccp"),
    ({"protocol": "icmp", "source_port": 1}, "source_port", "needs protocol tcp"),
    ({"protocol": "tcp", "destination_port": 70000}, "destination_port", "out of range 0-65535"),
    ({"protocol": "tcp", "destination_port": "22:23"}, "destination_port", "expected a whole number"),
    ({"protocol": "tcp", "destination_port": "ssh"}, "destination_port", "expected a whole number"),
    ({"protocol": "tcp", "destination_port": 1, "fragment": True}, "destination_port", "carries no ports"),
    ({"in_interface": "eth+"}, "in_interface", "is not an interface name"),
    ({"in_interface": "a-very-long-interface"}, "in_interface", "at most 15 characters"),
    ({"in_interface": "eth0\n"}, "in_interface", "control characters"),
    ({"hook": "OUTPUT", "in_interface": "eth0"}, "in_interface", "through OUTPUT has no in interface"),
    ({"out_interface": "eth0"}, "out_interface", "through INPUT has no out interface"),
    ({"state": "SYN_SENT"}, "state", "must be one of NEW, ESTABLISHED"),
    ({"state": ["NEW"]}, "state", "must be one of"),
    ({"tcp_flags": ["SYN"]}, "tcp_flags", "needs protocol tcp"),
    ({"protocol": "tcp", "tcp_flags": ["SYN", "XMAS"]}, "tcp_flags", "unknown TCP flag 'XMAS'"),
    ({"protocol": "tcp", "tcp_flags": {"SYN": 1}}, "tcp_flags", "expected a list of flags"),
    ({"protocol": "tcp", "tcp_flags": ["SYN"], "fragment": True}, "tcp_flags", "no TCP header"),
    ({"icmp_type": "echo-request"}, "icmp_type", "a different type in IPv4 and IPv6"),
    ({"icmp_type": "echo-requst", "family": "ipv4"}, "icmp_type", "did you mean 'echo-request'?"),
    ({"icmp_type": "neighbour-solicitation", "family": "ipv4"}, "icmp_type", "unknown ICMP type name"),
    ({"icmp_type": "any", "family": "ipv4"}, "icmp_type", "not 'any'"),
    ({"icmp_type": "3/4"}, "icmp_type", "give the code as icmp_code"),
    ({"icmp_type": 256}, "icmp_type", "out of range 0-255"),
    ({"icmp_type": 8, "protocol": "tcp"}, "icmp_type", "needs protocol icmp"),
    ({"icmp_type": 8, "fragment": True}, "icmp_type", "no ICMP header"),
    ({"icmp_code": 3}, "icmp_code", "needs icmp_type"),
    ({"icmp_type": 3, "icmp_code": 256}, "icmp_code", "out of range 0-255"),
    ({"icmp_type": "port-unreachable", "icmp_code": 1, "family": "ipv4"}, "icmp_code", "contradicts"),
    ({"fragment": "maybe"}, "fragment", "expected a boolean"),
    ({"uid": 0}, "uid", "hook OUTPUT"),
    ({"hook": "FORWARD", "gid": 0}, "gid", "hook OUTPUT"),
    ({"hook": "OUTPUT", "uid": "root"}, "uid", "names are not resolved"),
    ({"hook": "OUTPUT", "uid": -1}, "uid", "out of range"),
    ({"hook": "OUTPUT", "gid": 4294967295}, "gid", "out of range"),
    ({"sets": ["ban"]}, "sets", "expected a mapping of set names"),
    ({"sets": {"bad name": []}}, "sets", "is not a valid ipset name"),
    ({"sets": {"ban": 5}}, "sets", "set ban: expected a list of members"),
    ({"sets": {"ban": ["10.0.0.0/33"]}}, "sets", "set ban: '10.0.0.0/33' is not an address"),
]  # fmt: skip


@pytest.mark.parametrize("spec, key, message", ERRORS, ids=[e[1] + ": " + e[2] for e in ERRORS])
def test_bad_input_names_the_packet_and_the_key(spec, key, message):
    with pytest.raises(RuleError) as info:
        PK.packet_from(spec, 4)
    text = str(info.value)
    assert text.startswith("packet #4: key '%s': " % key), text
    assert message in text, text


def test_every_key_has_an_error_case():
    assert set(PK.KEYS) <= {key for _spec, key, _msg in ERRORS}


def test_a_packet_that_is_no_mapping():
    with pytest.raises(RuleError, match=r"^packet #7: a packet must be a mapping"):
        PK.packet_from(["tcp"], 7)
    with pytest.raises(RuleError, match="default family must be ipv4 or ipv6"):
        PK.packet_from({}, 1, "both")


# ---------------------------------------------------------------- with the key table


def judge(line, pkt, family="ipv4"):
    """A saved INPUT rule's match on pkt, every key by its test, as the walker does."""
    text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT %s\nCOMMIT\n" % line
    (rule,) = parse_save(text)["filter"].chains["INPUT"].rules
    d = structured(rule.tokens, family)
    answers = [K.BY_NAME[k].test(v, pkt, d) for k, v in d.items() if K.BY_NAME[k].matches]
    if False in answers:
        return False
    return None if None in answers else True


SSH = {"protocol": "tcp", "destination_port": 22, "source": "192.0.2.10"}


@pytest.mark.parametrize(
    "line, spec, expected",
    [
        ("-s 192.0.2.0/24 -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT", SSH, True),
        ("-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP", SSH, True),
        ("-p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP", SSH, False),
        ("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", SSH, False),
        ("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", dict(SSH, state="ESTABLISHED"), True),
        ("-d 192.0.2.1/32 -p tcp -m tcp --dport 22 -j ACCEPT", SSH, None),  # destination unknown
        ("-i eth0 -p tcp -m tcp --dport 22 -j ACCEPT", SSH, None),  # interface unknown
        ("-i lo -j ACCEPT", SSH, False),
        ("-p udp -m udp --dport 22 -j ACCEPT", SSH, False),
        ("-m set --match-set ban src -j DROP", SSH, None),
        ("-m set --match-set ban src -j DROP", dict(SSH, sets={"ban": ["192.0.2.0/28"]}), True),
        ("-p icmp -m icmp --icmp-type 8 -j ACCEPT", {"protocol": "icmp", "icmp_type": 8, "family": "ipv4"}, True),
        (
            "-p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT",
            {"icmp_type": "neighbor-solicitation", "source": "fe80::1"},
            True,
        ),
        (
            "-m owner --uid-owner 0-999 -j ACCEPT",
            {"hook": "OUTPUT", "uid": 33, "destination": "192.0.2.1"},
            True,
        ),
    ],
)  # fmt: skip
def test_packets_judged_by_the_key_table(line, spec, expected):
    pkt = PK.packet_from(spec)
    assert judge(line, pkt, pkt.family or "ipv4") is expected


@given(st.integers(0, 65535), st.integers(0, 65535), st.sampled_from(["tcp", "udp", "sctp"]))
def test_a_given_port_is_kept(sport, dport, proto):
    pkt = PK.packet_from({"protocol": proto, "source_port": sport, "destination_port": dport})
    assert (pkt.proto, pkt.sport, pkt.dport) == (proto, sport, dport)


@given(st.ip_addresses())
def test_an_address_decides_the_family(addr):
    pkt = PK.packet_from({"source": str(addr)})
    assert pkt.src == addr
    assert pkt.family == ("ipv4" if addr.version == 4 else "ipv6")


@given(st.text(max_size=12).filter(lambda s: s not in PK.KEYS))
def test_any_unknown_key_is_refused_by_name(key):
    with pytest.raises(RuleError, match=r"^packet #1: key '%s': unknown key" % re.escape(key)):
        PK.packet_from({key: 1})
