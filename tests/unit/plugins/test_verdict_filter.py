"""The hostfw.netfilter.verdict filter (plugins/filter/verdict.py): a packet
against a config list, a save text or ruleset's `rendered`, on the controller.
Pure: no host, no kernel."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.hostfw.netfilter.plugins.filter import verdict as V

CONFIG = [
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
                        "name": "ssh4",
                        "ip_version": "ipv4",
                        "protocol": "tcp",
                        "destination_port": 22,
                        "source": "192.0.2.0/24",
                        "jump": "ACCEPT",
                    },
                    {
                        "name": "ssh6",
                        "ip_version": "ipv6",
                        "protocol": "tcp",
                        "destination_port": 22,
                        "source": "2001:db8::/32",
                        "jump": "ACCEPT",
                    },
                    {
                        "name": "web",
                        "protocol": "tcp",
                        "destination_port": 80,
                        "jump": "HOSTFW-WEB",
                    },
                    {
                        "name": "ident",
                        "protocol": "tcp",
                        "destination_port": 113,
                        "jump": "REJECT",
                        "reject_with": "tcp-reset",
                    },
                    {
                        "name": "ping",
                        "protocol": "icmp",
                        "ip_version": "ipv4",
                        "limit": "5/second",
                        "jump": "ACCEPT",
                    },
                ],
            },
            {
                "name": "OUTPUT",
                "policy": "ACCEPT",
                "rules": [
                    {"name": "no-smtp", "protocol": "tcp", "destination_port": 25, "jump": "DROP"}
                ],
            },
            {
                "name": "HOSTFW-WEB",
                "rules": [
                    {
                        "name": "web-admin",
                        "source": "198.51.100.0/24",
                        "ip_version": "ipv4",
                        "jump": "RETURN",
                    },
                    {"name": "web-accept", "jump": "ACCEPT"},
                ],
            },
        ],
    }
]

SSH = {"protocol": "tcp", "destination_port": 22, "state": "NEW", "in_interface": "eth0"}
ETH = {"in_interface": "eth0"}

CASES = [
    # (id, packet, kwargs, expected string)
    ("ssh from admin v4", {**SSH, "source": "192.0.2.10"}, {}, "accept"),
    ("ssh from elsewhere v4", {**SSH, "source": "203.0.113.9"}, {}, "drop"),
    ("ssh from admin v6", {**SSH, "source": "2001:db8::10"}, {}, "accept"),
    ("ssh from elsewhere v6", {**SSH, "source": "2001:db9::10"}, {}, "drop"),
    (
        "established",
        {**ETH, "protocol": "tcp", "source_port": 443, "state": "ESTABLISHED"},
        {},
        "accept",
    ),
    ("loopback", {"protocol": "udp", "destination_port": 53, "in_interface": "lo"}, {}, "accept"),
    (
        "web via user chain",
        {"protocol": "tcp", "destination_port": 80, "source": "203.0.113.9", "state": "NEW"},
        {},
        "accept",
    ),
    (
        "web: RETURN back to INPUT, then policy",
        {"protocol": "tcp", "destination_port": 80, "source": "198.51.100.4", "state": "NEW"},
        {},
        "drop",
    ),
    ("reject", {**ETH, "protocol": "tcp", "destination_port": 113, "state": "NEW"}, {}, "reject"),
    (
        "rate limit: either",
        {"protocol": "icmp", "source": "203.0.113.9", "state": "NEW"},
        {},
        "may:accept,drop",
    ),
    ("output", {"hook": "OUTPUT", "protocol": "tcp", "destination_port": 25}, {}, "drop"),
    ("output other", {"hook": "OUTPUT", "protocol": "tcp", "destination_port": 443}, {}, "accept"),
    ("forward: not listed, empty and ACCEPT", {"hook": "FORWARD", "protocol": "tcp"}, {}, "accept"),
    ("family argument", {**SSH, "source_port": 40000}, {"family": "ipv6"}, "may:accept,drop"),
    (
        "unknown interface: loopback may match",
        {"protocol": "tcp", "destination_port": 113},
        {},
        "may:accept,reject",
    ),
    (
        "name and expect are ignored",
        {**SSH, "source": "192.0.2.1", "name": "x", "expect": "drop"},
        {},
        "accept",
    ),
]


@pytest.mark.parametrize(
    ("packet", "kwargs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_verdict_string(packet, kwargs, expected):
    assert V.verdict(CONFIG, packet, **kwargs) == expected


def test_detail_is_the_whole_answer():
    answer = V.verdict(CONFIG, {**SSH, "source": "192.0.2.10"}, detail=True)
    assert answer["result"] == "accept" and answer["family"] == "ipv4"
    assert answer["verdict"] == "accept" and answer["certainty"] == "definite"
    assert answer["verdicts"] == ["accept"]
    d = answer["decided_by"]
    assert (d["chain"], d["position"], d["name"], d["policy"]) == ("INPUT", 3, "ssh4", None)
    assert "--dport 22" in d["rule"] and "192.0.2.0/24" in d["rule"]
    assert answer["path"][-1]["position"] == 3


def test_detail_policy_and_reject_with():
    dropped = V.verdict(CONFIG, {**SSH, "source": "203.0.113.9"}, detail=True)
    assert dropped["decided_by"]["policy"] == "DROP" and dropped["decided_by"]["position"] is None
    rejected = V.verdict(CONFIG, {**ETH, "protocol": "tcp", "destination_port": 113}, detail=True)
    assert rejected["verdict"] == "reject" and rejected["reject_with"] == "tcp-reset"


def test_detail_uncertain_names_the_rule():
    answer = V.verdict(CONFIG, {**ETH, "protocol": "icmp", "source": "203.0.113.9"}, detail=True)
    assert answer["result"] == "may:accept,drop" and answer["certainty"] == "may"
    assert [(u["chain"], u["position"]) for u in answer["uncertain"]] == [
        ("INPUT", 6)
    ]  # ssh6 is not in the ipv4 chain
    assert "limit" in answer["uncertain"][0]["keys"]


SAVE = """\
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
COMMIT
"""


def test_save_text_and_rendered_mapping():
    https = {"protocol": "tcp", "destination_port": 443}
    assert V.verdict(SAVE, https) == "accept"
    assert V.verdict(SAVE, {**https, "destination_port": 80}) == "drop"
    rendered = {"ipv4": SAVE, "ipv6": SAVE.replace("443", "8443")}
    assert V.verdict(rendered, https) == "accept"
    assert V.verdict(rendered, https, family="ipv6") == "drop"
    assert V.verdict(rendered, {**https, "destination": "2001:db8::1"}) == "drop"
    # a family the mapping does not hold: no filter table, nothing filters
    assert V.verdict({"ipv4": SAVE}, https, family="ipv6") == "accept"


def test_templated_types_are_plain():
    class Text(str):
        pass

    assert (
        V.verdict(
            CONFIG,
            {Text("protocol"): Text("tcp"), "destination_port": 22, "source": Text("192.0.2.7")},
        )
        == "accept"
    )


@pytest.mark.parametrize(
    ("data", "packet", "kwargs", "message"),
    [
        (CONFIG, {"protocol": "tcp", "bogus": 1}, {}, "packet #1: key 'bogus'"),
        (
            CONFIG,
            {"protocol": "tcp", "destination_port": "http-ish"},
            {},
            "packet #1: key 'destination_port'",
        ),
        (CONFIG, "not a mapping", {}, "the packet must be a mapping"),
        (CONFIG, {**SSH, "source": "192.0.2.1"}, {"family": "ipv6"}, "not of the family argument"),
        (CONFIG, SSH, {"family": "ipx"}, "family must be ipv4 or ipv6"),
        (
            [{"table": "filter", "chains": [{"name": "INPUT", "rules": [{"jump": "NOPE"}]}]}],
            SSH,
            {},
            "NOPE",
        ),
        (
            [
                {
                    "table": "filter",
                    "chains": [
                        {"name": "INPUT", "rules": [{"protocol": "tcp", "destination_port": 99999}]}
                    ],
                }
            ],
            SSH,
            {},
            "key 'destination_port'",
        ),
        (42, SSH, {}, "the input must be a config list"),
    ],
    ids=[
        "unknown key",
        "bad port",
        "not a mapping",
        "family mismatch",
        "bad family",
        "jump nowhere",
        "bad rule",
        "bad input",
    ],
)
def test_bad_input_fails_clearly(data, packet, kwargs, message):
    with pytest.raises(AnsibleFilterError) as e:
        V.verdict(data, packet, **kwargs)
    assert message in str(e.value)
    assert str(e.value).startswith("hostfw.netfilter.verdict: ")


def test_registered_and_documented():
    assert V.FilterModule().filters() == {"verdict": V.verdict}
    doc = yaml.safe_load((Path(V.__file__).with_suffix(".yml")).read_text())
    assert doc["DOCUMENTATION"]["name"] == "verdict"
    assert set(doc["DOCUMENTATION"]["options"]) == {"_input", "packet", "detail", "family"}
    examples = yaml.safe_load(doc["EXAMPLES"])
    assert all("hostfw.netfilter.verdict(" in str(t) for t in examples)


def test_examples_evaluate_as_they_say():
    """The doc's examples, with a config like the one they mean."""
    examples = yaml.safe_load(
        yaml.safe_load(Path(V.__file__).with_suffix(".yml").read_text())["EXAMPLES"]
    )
    assert "'source': '192.0.2.10'" in examples[0]["ansible.builtin.assert"]["that"]
    assert V.verdict(CONFIG, {**SSH, "source": "192.0.2.10"}) == "accept"
    telnet = {**ETH, "protocol": "tcp", "destination_port": 23}
    assert V.verdict(CONFIG, telnet, family="ipv6") == "drop"
    assert V.verdict(CONFIG, telnet, detail=True)["decided_by"]["policy"] == "DROP"
