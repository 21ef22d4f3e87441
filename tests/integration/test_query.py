"""The hostfw.netfilter.query filter on real data: rules made by the modules in a
namespace, read back with rules_info, queried in a playbook (on the controller),
and compared with the same JMESPath run here and with the kernel's saves. Bad
expressions fail clearly; without jmespath the filter says how to install it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jmespath
import pytest
from module_cases import mtask
from ruleset_cases import FAMILIES, by_name, chains

FILTER_FILE = Path(__file__).resolve().parents[2] / "plugins" / "filter" / "query.py"

SETUP = [
    mtask("chain", "web chain", {"name": "HOSTFW-WEB"}),
    mtask(
        "rule",
        "ssh",
        {
            "name": "ssh",
            "chain": "INPUT",
            "protocol": "tcp",
            "destination_port": 22,
            "source": "192.0.2.0/24",
            "jump": "ACCEPT",
        },
    ),
    mtask(
        "rule",
        "web",
        {
            "name": "web",
            "chain": "INPUT",
            "protocol": "tcp",
            "destination_ports": [80, 443],
            "jump": "HOSTFW-WEB",
        },
    ),
    mtask(
        "rule",
        "dns",
        {"chain": "INPUT", "protocol": "udp", "destination_port": 53, "jump": "ACCEPT"},
    ),
    mtask(
        "rule",
        "alt",
        {
            "name": "alt",
            "chain": "INPUT",
            "protocol": "tcp",
            "destination_port": 8080,
            "jump": "ACCEPT",
        },
    ),
    mtask("rule", "web-accept", {"name": "web-accept", "chain": "HOSTFW-WEB", "jump": "ACCEPT"}),
    mtask("rules_info", "rules_info", {}, _register="fw"),
]

# (task name, expression, expected value)
QUERIES = [
    (
        "the issue's INPUT ports",
        "[].chains[?name=='INPUT'][].rules[].destination_port",
        [22, 53, 8080],
    ),
    (
        "INPUT ports of the filter table",
        "[?table=='filter'].chains[] | [?name=='INPUT'].rules[].destination_port",
        [22, 53, 8080],
    ),
    ("jumps to the web chain", "[].chains[].rules[?jump=='HOSTFW-WEB'][].name", ["web"]),
    ("multiport lists", "[].chains[].rules[].destination_ports", [[80, 443]]),
    ("IPv4-only rules", "[].chains[].rules[?ip_version=='ipv4'][].name", ["ssh"]),
    ("unnamed rules", "[].chains[].rules[?!name][].destination_port", [53]),
    ("ssh open to the world", "[].chains[].rules[?destination_port==`22` && !source][]", []),
    ("a chain's policy", "[0].chains[?name=='FORWARD'] | [0].policy", "ACCEPT"),
    ("rule count", "length([].chains[].rules[])", 5),
]

# (task name, expression, words the message must contain)
BAD = [
    ("unclosed filter", "[?name=='INPUT'", ["invalid JMESPath expression", "[?name=='INPUT'"]),
    ("stray token", "chains[]]", ["invalid JMESPath expression"]),
    ("empty expression", "", ["non-empty"]),
    ("function on the wrong type", "abs([0].table)", ["failed on the data", "abs"]),
]


def debug(name, expr):
    value = "{{ fw.config | hostfw.netfilter.query(%s) }}" % json.dumps(expr)
    return {"name": name, "ansible.builtin.debug": {"msg": value}, "ignore_errors": True}


def test_query_on_real_rules(netns, run_playbook, variant):
    tasks = SETUP + [debug(n, e) for n, e, _v in QUERIES] + [debug(n, e) for n, e, _w in BAD]
    res = by_name(run_playbook(netns, tasks))
    setup_failed = {t["name"]: res[t["name"]].get("msg") for t in SETUP if res[t["name"]]["failed"]}
    assert not setup_failed, setup_failed
    config = res["rules_info"]["config"]

    errors = []
    for name, expr, want in QUERIES:
        r = res[name]
        if r["failed"]:
            errors.append(f"{name}: failed: {r.get('msg')}")
            continue
        # the filter in the playbook, jmespath here on the module's data, the table
        if r["msg"] != want or jmespath.search(expr, config) != want:
            errors.append(f"{name}: {expr}: got {r['msg']!r}, expected {want!r}")
    for name, expr, words in BAD:
        r = res[name]
        msg = r.get("msg", "")
        if not r["failed"] or not all(w in msg for w in words):
            errors.append(f"{name}: {expr!r}: expected a failure naming {words}, got {r}")
    assert not errors, "\n".join(errors)

    # the data queried is the kernel's: the INPUT ports of both families' saves
    kernel = set()
    for fam in FAMILIES:
        for spec in chains(netns.save(fam))["INPUT"][1]:
            kernel.update(int(p) for p in re.findall(r"--dport (\d+)", spec))
    assert kernel == {22, 53, 8080}


_NO_JMESPATH = """
import importlib.util, sys
sys.modules["jmespath"] = None  # any import of it now raises ImportError
spec = importlib.util.spec_from_file_location("hfw_query", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
from ansible.errors import AnsibleFilterError
assert mod.FilterModule().filters()["query"] is mod.query
try:
    mod.query([{"table": "filter"}], "[].table")
except AnsibleFilterError as e:
    print("ERROR", e)
else:
    print("NO ERROR")
"""


@pytest.mark.parametrize("shim", [True, False], ids=["jmespath-missing", "jmespath-present"])
def test_query_without_jmespath(shim):
    """Unit level, in a fresh interpreter: with jmespath unimportable the filter
    fails naming the library and how to install it; with it, it answers."""
    script = _NO_JMESPATH if shim else _NO_JMESPATH.replace('sys.modules["jmespath"] = None', "")
    proc = subprocess.run(
        [sys.executable, "-c", script, str(FILTER_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    if shim:
        assert proc.stdout.startswith("ERROR"), proc.stdout
        assert "jmespath" in proc.stdout and "pip install jmespath" in proc.stdout, proc.stdout
    else:
        assert proc.stdout.strip() == "NO ERROR", proc.stdout
