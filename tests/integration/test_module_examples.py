"""The EXAMPLES of rule, chain and rules_info, and of the query filter, run as
written in a namespace: a documentation example that fails is a bug. Setup tasks
go around the examples (never into them) so that each one has something to do,
and the host's saves show that each did what its name says.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml
from module_cases import NS, load_task, mtask, table_text
from ruleset_cases import FAMILIES, NO_SSH, by_name, chains, recorded, save_task

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def module_examples(module: str) -> list[dict]:
    tree = ast.parse((PLUGINS / "modules" / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"no EXAMPLES in {module}.py")


def filter_examples() -> list[dict]:
    doc = yaml.safe_load((PLUGINS / "filter" / "query.yml").read_text())
    return yaml.safe_load(doc["EXAMPLES"])


def as_written(tasks, suffix=""):
    """The example tasks unchanged, but for the cleared SSH_CONNECTION (the tests'
    own session must not reach protect_connection) and a name suffix for re-runs."""
    return [{**t, "name": t["name"] + suffix, "environment": NO_SSH} for t in tasks]


def names(save_text: str, chain: str = "INPUT") -> list:
    """The hostfw names (or the whole spec, for unnamed rules) of a chain's rules."""
    out = []
    for spec in chains(save_text)[chain][1]:
        if '"hostfw:' in spec:
            out.append(spec.split('"hostfw:')[1].split('"')[0].split()[0])
        else:
            out.append(spec)
    return out


@pytest.mark.parametrize("module", ["rule", "chain", "rules_info"])
def test_examples_parse(module):
    tasks = module_examples(module)
    assert isinstance(tasks, list) and len(tasks) >= 2
    for t in tasks:
        assert t.get("name"), t
        assert NS + module in t or t.keys() & {"ansible.builtin.debug"}, t  # FQCN


def test_filter_examples_parse():
    tasks = filter_examples()
    assert len(tasks) >= 3
    for t in tasks:
        assert t.get("name") and "hostfw.netfilter.query(" in str(t), t


def failures(results):
    return [(r["_task"], r.get("msg")) for r in results if r.get("failed")]


TELNET = "-p tcp -m tcp --dport 23 -j ACCEPT"


def test_rule_examples(netns, run_playbook, variant):
    """Run twice: the second run changes only the web rule, which the examples add,
    change and remove again; every other example is then a no-op."""
    examples = module_examples("rule")
    texts = {fam: table_text({"INPUT": [TELNET]}) for fam in FAMILIES}
    tasks = [
        load_task("load", texts),
        *as_written(examples),
        save_task("after"),
        *as_written(examples, " (again)"),
        save_task("after again"),
    ]
    results = run_playbook(netns, tasks)
    assert not failures(results), failures(results)
    res = by_name(results)
    assert len(res) == 3 + 2 * len(examples)
    assert all(res[t["name"]]["changed"] for t in examples), "an example changed nothing"
    after = recorded(res["after"])
    assert names(after["ipv4"]) == ["established", "ssh#1", "log-drop"]
    assert names(after["ipv6"]) == ["established", TELNET, "ssh#2", "log-drop"]
    assert "-s 192.0.2.0/24 -p tcp -m tcp --dport 22" in after["ipv4"]
    assert "-s 2001:db8::/32 -p tcp -m tcp --dport 22" in after["ipv6"]
    web = {
        "A web port, kept before the log rule",
        "Move the web rule to another port without changing its place",
        "Remove it by name",
    }
    for t in examples:
        r = res[t["name"] + " (again)"]
        assert r["changed"] is (t["name"] in web), (t["name"], r.get("commands"))
    assert recorded(res["after again"]) == after


def test_chain_examples(netns, run_playbook, variant):
    examples = module_examples("chain")
    by_title = {t["name"]: t for t in examples}
    input_rules = [
        TELNET,
        "-p tcp -m tcp --dport 22 -j f2b-sshd",
        '-i lo -m comment --comment "hostfw:loopback" -j ACCEPT',
    ]
    texts = {fam: table_text({"INPUT": input_rules, "f2b-sshd": ["-j RETURN"]}) for fam in FAMILIES}
    jump = {"name": "web", "chain": "INPUT", "protocol": "tcp", "destination_port": 80}
    tasks = [load_task("load", texts), *as_written(examples[:3]), save_task("purged")]
    tasks += [
        mtask("rule", "jump to the web chain", {**jump, "jump": "HOSTFW-WEB"}),
        mtask("rule", "a rule in it", {"name": "w", "chain": "HOSTFW-WEB", "jump": "ACCEPT"}),
        *as_written(examples[3:]),
        save_task("final"),
    ]
    results = run_playbook(netns, tasks)
    assert not failures(results), failures(results)
    res = by_name(results)
    assert all(res[t]["changed"] for t in by_title), "an example changed nothing"
    for fam, text in recorded(res["purged"]).items():
        c = chains(text)
        assert c["FORWARD"][0] == "DROP", fam
        assert c["HOSTFW-WEB"] == ("-", []), fam
        assert names(text) == [input_rules[1], "loopback"], fam  # telnet purged
    for fam, text in recorded(res["final"]).items():
        c = chains(text)
        assert "HOSTFW-WEB" not in c, fam
        assert names(text) == [input_rules[1], "loopback"], fam  # the jump went too
        assert c["f2b-sshd"] == ("-", ["-j RETURN"]), fam


def test_rules_info_examples(netns, run_playbook, variant):
    examples = module_examples("rules_info")
    ssh = '-p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh" -j ACCEPT'
    texts = {
        fam: table_text({"INPUT": [ssh, "-p tcp -m tcp --dport 443 -j ACCEPT"]}) for fam in FAMILIES
    }
    tasks = [load_task("load", texts), *as_written(examples), save_task("after")]
    results = run_playbook(netns, tasks)
    assert not failures(results), failures(results)
    res = by_name(results)
    first, second, third = (res[t["name"]] for t in examples)
    assert "filter" in [e["table"] for e in first["config"]]
    assert second["config"][0]["ip_version"] == "ipv6"
    assert [c["name"] for e in second["config"] for c in e["chains"]] == ["INPUT"]
    assert all("counters" in r for r in second["config"][0]["chains"][0]["rules"])
    assert third["msg"] == [22, 443]
    assert recorded(res["after"]) == recorded(res["load"])


def test_filter_examples(netns, run_playbook, variant):
    """The filter's examples on gathered data; the assert example also fails when
    SSH is open to the world."""
    examples = filter_examples()
    rules = [
        '-s 192.0.2.0/24 -p tcp -m tcp --dport 22 -m comment --comment "hostfw:ssh" -j ACCEPT',
        '-p tcp -m tcp --dport 80 -m comment --comment "hostfw:web" -j HOSTFW-WEB',
    ]
    texts = {
        "ipv4": table_text({"INPUT": rules, "HOSTFW-WEB": ["-j ACCEPT"]}),
        "ipv6": table_text({"INPUT": rules[1:], "HOSTFW-WEB": ["-j ACCEPT"]}),
    }
    world = {
        "name": "ssh-world",
        "chain": "INPUT",
        "protocol": "tcp",
        "destination_port": 22,
        "jump": "ACCEPT",
    }
    tasks = [
        load_task("load", texts),
        mtask("rules_info", "gather", {}, _register="fw"),
        *as_written(examples),
        mtask("rule", "open SSH to the world", world),
        mtask("rules_info", "gather again", {}, _register="fw"),
        {**as_written(examples[2:3], " (open)")[0], "ignore_errors": True},
    ]
    results = run_playbook(netns, tasks)
    res = by_name(results)
    assert not failures(results[:-1]), failures(results)
    assert res[examples[0]["name"]]["msg"] == [22, 80]
    assert res[examples[1]["name"]]["msg"] == ["web"]
    assert res[examples[2]["name"]]["failed"] is False
    opened = res[examples[2]["name"] + " (open)"]
    assert opened["failed"] is True, opened
