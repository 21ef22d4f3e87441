"""hostfw.netfilter.explain against the real kernel, on both variants, and the
verdict filter in a playbook. One playbook per variant: a ruleset loaded with
hostfw.netfilter.ruleset, then explain with expects that hold, in check mode,
with expects that do not (the message names each packet and the deciding
rule), with a config instead of the host, with bad input, the EXAMPLES of
explain.py and of verdict.yml as written, and the saves before and after (explain
never changes anything).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml
from module_cases import mtask
from ruleset_cases import NO_SSH, by_name, recorded, save_task, task

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"

INPUT_RULES = [
    {"name": "loopback", "in_interface": "lo", "jump": "ACCEPT"},
    {"name": "established", "ctstate": ["ESTABLISHED", "RELATED"], "jump": "ACCEPT"},
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
    {"name": "web", "protocol": "tcp", "destination_port": 80, "jump": "HOSTFW-WEB"},
    {
        "name": "ident",
        "protocol": "tcp",
        "destination_port": 113,
        "jump": "REJECT",
        "reject_with": "tcp-reset",
    },
    {
        "name": "ping",
        "ip_version": "ipv4",
        "protocol": "icmp",
        "limit": "5/second",
        "jump": "ACCEPT",
    },
]
CONFIG = [
    {
        "table": "filter",
        "chains": [
            {"name": "INPUT", "policy": "DROP", "rules": INPUT_RULES},
            {"name": "FORWARD", "policy": "DROP", "rules": []},
            {
                "name": "OUTPUT",
                "policy": "ACCEPT",
                "rules": [
                    {"name": "no-smtp", "protocol": "tcp", "destination_port": 25, "jump": "DROP"}
                ],
            },
            {"name": "HOSTFW-WEB", "rules": [{"name": "web-accept", "jump": "ACCEPT"}]},
        ],
    }
]
ETH = {"in_interface": "eth0"}  # else the loopback rule may match: unknown is never guessed
SSH = {"protocol": "tcp", "destination_port": 22, "state": "NEW", **ETH}
GOOD = [
    {"name": "ssh from admin", **SSH, "source": "192.0.2.10", "expect": "accept"},
    {"name": "ssh from admin v6", **SSH, "source": "2001:db8::10", "expect": "accept"},
    {"name": "ssh from elsewhere", **SSH, "source": "203.0.113.9", "expect": "drop"},
    {**SSH, "source": "2001:db9::1", "expect": "drop"},  # unnamed: #4
    {
        "name": "web",
        **ETH,
        "protocol": "tcp",
        "destination_port": 80,
        "state": "NEW",
        "expect": "accept",
    },
    {"name": "ident", **ETH, "protocol": "tcp", "destination_port": 113, "expect": "reject"},
    {
        "name": "smtp out",
        "hook": "OUTPUT",
        "protocol": "tcp",
        "destination_port": 25,
        "destination": "198.51.100.25",
        "expect": "drop",
    },
    {"name": "forward", "hook": "FORWARD", "protocol": "udp", "expect": "drop"},
    {"name": "ping", **ETH, "protocol": "icmp", "source": "203.0.113.9"},  # may: accept or drop
]
BAD = [
    {"name": "ssh from admin", **SSH, "source": "192.0.2.10", "expect": "drop"},
    {**SSH, "source": "203.0.113.9", "expect": "accept"},
    {"name": "ident", **ETH, "protocol": "tcp", "destination_port": 113, "expect": "reject"},
    {"name": "ping", **ETH, "protocol": "icmp", "source": "203.0.113.9", "expect": "accept"},
]
OTHER_CONFIG = [  # not the host's rules: explain with config must not read them
    {
        "table": "filter",
        "chains": [
            {
                "name": "INPUT",
                "policy": "DROP",
                "rules": [
                    {"name": "mysql", "protocol": "tcp", "destination_port": 3306, "jump": "ACCEPT"}
                ],
            }
        ],
    }
]


def explain(name, packets, **args):
    keywords = {k: v for k, v in args.items() if k.startswith("_")}
    args = {k: v for k, v in args.items() if not k.startswith("_")}
    return mtask("explain", name, {"packets": packets, **args}, **keywords)


def module_examples() -> list[dict]:
    tree = ast.parse((PLUGINS / "modules" / "explain.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES":
            return yaml.safe_load(node.value.value)
    raise AssertionError("no EXAMPLES in explain.py")


def filter_examples() -> list[dict]:
    doc = yaml.safe_load((PLUGINS / "filter" / "verdict.yml").read_text())
    return yaml.safe_load(doc["EXAMPLES"])


def tasks() -> list[dict]:
    return [
        task("overridden", CONFIG, name="load"),
        save_task("before"),
        explain("good", GOOD),
        explain("good in check mode", GOOD, _check_mode=True),
        explain("bad", BAD),
        explain(
            "config",
            [
                {"name": "mysql", "protocol": "tcp", "destination_port": 3306, "expect": "accept"},
                {"name": "ssh", **SSH, "source": "192.0.2.10", "expect": "drop"},
            ],
            config=OTHER_CONFIG,
        ),
        explain(
            "config ipv4 only",
            [{"protocol": "tcp", "destination_port": 3306}],
            config=OTHER_CONFIG,
            ip_version="ipv4",
        ),
        explain(
            "bad config",
            [SSH],
            config=[
                {
                    "table": "filter",
                    "chains": [
                        {
                            "name": "INPUT",
                            "rules": [
                                {"name": "oops", "protocol": "tcp", "destination_port": 99999}
                            ],
                        }
                    ],
                }
            ],
        ),
        explain("bad packet", [SSH, {"protocol": "tcp", "bogus": 1}]),
        explain("bad expect", [{**SSH, "expect": "allow"}]),
        explain("ipv6 packet, ipv4 task", [{**SSH, "source": "2001:db8::1"}], ip_version="ipv4"),
        *[{**t, "environment": NO_SSH} for t in module_examples()],
        *filter_examples(),
        {
            "name": "filter on the host's gathered config",
            "ansible.builtin.set_fact": {
                "v": "{{ CONFIG | hostfw.netfilter.verdict({'protocol': 'tcp', 'destination_port': 80}) }}",
                "d": "{{ CONFIG | hostfw.netfilter.verdict({'protocol': 'icmp'}, detail=true) }}",
            },
        },
        save_task("after"),
    ]


_RUNS: dict[str, dict] = {}


@pytest.fixture
def results(netns, run_playbook, variant):
    if variant not in _RUNS:
        play = {"vars": {"CONFIG": CONFIG, "firewall_config": CONFIG}}
        _RUNS[variant] = by_name(run_playbook(netns, tasks(), play=play))
    return _RUNS[variant]


def entries(result):
    return {e["label"]: e for e in result["packets"]}


def test_good_expects_hold_and_answers(results):
    r = results["good"]
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is False and r["backend"] == "restore"
    e = entries(r)
    assert [x["index"] for x in r["packets"]] == [1, 2, 3, 4, 5, 5, 6, 6, 7, 8, 8, 9]
    admin = e["'ssh from admin' (#1)"]
    assert admin["family"] == "ipv4" and admin["ok"] is True
    assert admin["packet"]["source"] == "192.0.2.10" and admin["packet"]["destination_port"] == 22
    assert admin["decided_by"]["name"] == "ssh4" and admin["decided_by"]["position"] == 3
    assert "192.0.2.0/24" in admin["decided_by"]["rule"] and admin["path"][-1]["position"] == 3
    v6 = e["'ssh from admin v6' (#2)"]
    assert v6["family"] == "ipv6" and v6["decided_by"]["name"] == "ssh6"
    assert v6["decided_by"]["position"] == 3  # ssh4 is not in the ipv6 chain
    assert e["#4"]["family"] == "ipv6" and e["#4"]["decided_by"]["policy"] == "DROP"
    web = e["'web' (#5) (ipv6)"]
    assert web["decided_by"]["chain"] == "HOSTFW-WEB"
    assert [p["chain"] for p in web["path"]] == ["INPUT", "HOSTFW-WEB"]
    assert e["'ident' (#6) (ipv4)"]["reject_with"] == "tcp-reset"
    assert e["'forward' (#8) (ipv6)"]["decided_by"] == {
        "table": "filter",
        "chain": "FORWARD",
        "position": None,
        "name": None,
        "rule": None,
        "policy": "DROP",
    }
    ping = e["'ping' (#9)"]
    assert ping["certainty"] == "may" and ping["verdicts"] == ["accept", "drop"]
    assert ping["ok"] is None and "limit" in ping["uncertain"][0]["keys"]


def test_familyless_packet_once_per_family(results):
    """#5, #6 and #8 name neither a family nor an address: one answer per family."""
    e = entries(results["good"])
    for label in ("'web' (#5)", "'ident' (#6)", "'forward' (#8)"):
        assert label not in e
        four, six = e[label + " (ipv4)"], e[label + " (ipv6)"]
        assert (four["family"], six["family"]) == ("ipv4", "ipv6")
        assert four["verdict"] == six["verdict"] and four["ok"] is six["ok"] is True
    assert "'smtp out' (#7)" in e and e["'smtp out' (#7)"]["family"] == "ipv4"


def test_check_mode_evaluates_the_same(results):
    r, c = results["good"], results["good in check mode"]
    assert not c.get("failed") and c["changed"] is False
    assert c["packets"] == r["packets"]


def test_failing_expects_name_packet_and_rule(results):
    r = results["bad"]
    assert r["failed"] and r["changed"] is False
    msg = r["msg"]
    assert msg.startswith("3 of 4 packets not as expected: "), msg
    assert (
        "packet 'ssh from admin' (#1): expected drop, got accept by rule 3 of INPUT 'ssh4' (-A INPUT"
        in msg
    )
    assert "packet #2: expected accept, got drop by INPUT policy DROP" in msg
    assert "ident" not in msg
    assert "packet 'ping' (#4): expected accept, got only maybe: " in msg
    assert "rule 6 of INPUT (limit)" in msg  # ssh6 is not in the ipv4 chain
    assert len(r["failures"]) == 3 and len(r["packets"]) == 5  # every packet evaluated
    assert [p["ok"] for p in r["packets"]] == [False, False, True, True, False]  # ident: v4, v6


def test_config_instead_of_the_host(results):
    r = results["config"]
    assert not r.get("failed"), r.get("msg")
    assert "backend" not in r and "variant" not in r
    got = [(p["label"], p["verdict"], p["decided_by"]["name"]) for p in r["packets"]]
    assert got == [
        ("'mysql' (#1) (ipv4)", "accept", "mysql"),
        ("'mysql' (#1) (ipv6)", "accept", "mysql"),
        ("'ssh' (#2)", "drop", None),  # the host accepts it (ssh4); the config does not
    ]
    v4 = results["config ipv4 only"]["packets"]
    assert [(p["family"], p["verdict"], p["label"]) for p in v4] == [("ipv4", "accept", "#1")]


def test_bad_input_fails_clearly(results):
    assert "rule 'oops' (#1): key 'destination_port'" in results["bad config"]["msg"]
    assert "packet #2: key 'bogus'" in results["bad packet"]["msg"]
    assert "packet #1: key 'expect'" in results["bad expect"]["msg"]
    assert "packet #1: key 'family'" in results["ipv6 packet, ipv4 task"]["msg"]


def test_examples_as_written(results):
    for t in module_examples() + filter_examples():
        r = results[t["name"]]
        assert not r.get("failed"), (t["name"], r.get("msg"))
    why = results["Which rule lets SSH in from the admin network"]
    assert why["packets"][0]["decided_by"]["name"] == "ssh4"
    f = results["filter on the host's gathered config"]["ansible_facts"]
    assert f["v"] == "accept" and f["d"]["result"] == "may:accept,drop"


def test_explain_changes_nothing(results):
    assert recorded(results["before"]) == recorded(results["after"])
    assert "hostfw:ssh4" in recorded(results["before"])["ipv4"]
