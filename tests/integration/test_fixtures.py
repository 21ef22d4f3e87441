"""Tests of the integration fixture library itself (conftest.py, _netns.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import _netns
import pytest
from _netns import AnsibleRunError, assert_blocked, assert_reachable

HERE = Path(__file__).resolve().parent
VERSION_TAG = {"nft": "(nf_tables)", "legacy": "(legacy)"}


# --------------------------------------------------------------------------- namespaces


def test_netns_is_fresh_and_removed(netns_factory):
    ns = netns_factory()
    assert ns.name.startswith(f"hfw-{os.getpid()}-")
    assert ns.exists()
    assert ns.variant == "nft"  # the default when the test does not ask for a variant
    assert "state UNKNOWN" in ns.run(["ip", "link", "show", "lo"]).stdout  # lo is up
    assert ns.save("ipv4").strip() == ""  # a new namespace has no rules
    other = netns_factory()
    assert other.name != ns.name
    ns.close()
    assert not ns.exists()
    assert other.exists()


def test_run_takes_argument_lists_only(netns):
    with pytest.raises(TypeError):
        netns.run("iptables -S")
    proc = netns.run(["sh", "-c", "exit 3"], check=False)
    assert proc.returncode == 3
    with pytest.raises(subprocess.CalledProcessError, match="exit 3"):
        netns.run(["sh", "-c", "echo oops >&2; exit 3"])


def test_teardown_removes_namespace_and_listener_on_failure(tmp_path):
    """Run a failing test in a child pytest; its namespaces and listener must be gone."""
    record = tmp_path / "record.json"
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(f"""
        import json
        def test_fails(netpair):
            server, client = netpair
            with server.listen(0, "ipv4") as listener:
                json.dump({{"names": [server.name, client.name],
                           "pid": listener.proc.pid}}, open({str(record)!r}, "w"))
                assert False, "deliberate"
        """)
    )
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider"]
        + ["--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "deliberate" in proc.stdout
    data = json.loads(record.read_text())
    assert len(data["names"]) == 2
    remaining = _netns.list_namespaces()
    assert not set(data["names"]) & set(remaining)
    assert not Path(f"/proc/{data['pid']}").exists()


# --------------------------------------------------------------------------- variants


def test_variant_tools(netns, variant):
    assert netns.variant == variant
    assert netns.env["PATH"].split(":")[0].endswith(variant)
    for tool in ("iptables", "ip6tables", "iptables-save", "ip6tables-restore"):
        out = netns.run([tool, "-V"]).stdout
        assert VERSION_TAG[variant] in out, f"{tool}: {out}"
    # The rule lands in the kernel API of the variant: nft sees it only for nf_tables.
    netns.iptables("-A", "INPUT", "-p", "tcp", "--dport", "9", "-j", "DROP")
    ruleset = netns.run(["nft", "list", "ruleset"]).stdout
    assert ("dport 9" in ruleset) == (variant == "nft"), ruleset


@pytest.mark.parametrize("variant", ["legacy"])
def test_variant_can_be_parametrized_directly(netns_factory, variant):
    assert netns_factory().variant == "legacy"
    assert netns_factory("nft").variant == "nft"


@pytest.mark.parametrize("family", _netns.FAMILIES)
def test_save_restore(netns, variant, family):
    text = "*filter\n-A INPUT -p tcp --dport 7 -j ACCEPT\nCOMMIT\n"
    netns.restore(text, family)
    netns.restore(text, family)  # --noflush appends
    assert netns.save(family).count("--dport 7 -j ACCEPT") == 2
    netns.restore(text, family, noflush=False)
    assert netns.save(family).count("--dport 7 -j ACCEPT") == 1
    other = "ipv6" if family == "ipv4" else "ipv4"
    assert "--dport 7" not in netns.save(other)


# --------------------------------------------------------------------------- reachability


@pytest.mark.parametrize("family", _netns.FAMILIES)
def test_reachability(netpair, variant, family):
    server, client = netpair
    assert server.variant == client.variant == variant
    addr = server.addr(family)
    with server.listen(8080, family) as l8080, server.listen(0, family) as other:
        assert l8080.port == 8080
        assert client.connect(addr, 8080) == "open"
        assert client.connect(addr, 8081) == "refused"
        server.iptables("-I", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP", family=family)
        assert_blocked(client, addr, 8080, timeout=1.0)  # expects "timeout"
        assert_reachable(client, addr, other.port)  # the rule hits only its port
        with pytest.raises(AssertionError, match="timeout, expected open"):
            assert_reachable(client, addr, 8080, timeout=0.5)
        server.iptables("-D", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP", family=family)
        client.assert_reachable(addr, 8080)
        with pytest.raises(AssertionError, match="open, expected timeout"):
            client.assert_blocked(addr, 8080)
    # The listeners are gone with their context.
    assert client.connect(addr, 8080) == "refused"
    server.iptables("-I", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "REJECT", family=family)
    assert_blocked(client, addr, 8080, expect=None)


# --------------------------------------------------------------------------- ansible


def test_playbook_runs_inside_namespace(netns, variant, run_playbook):
    netns.iptables("-A", "INPUT", "-s", "192.0.2.99/32", "-j", "DROP")
    galaxy = str(Path(sys.executable).parent / "ansible-galaxy")
    results = run_playbook(
        netns,
        [
            {"name": "rules", "ansible.builtin.command": "iptables -S"},
            {"ansible.builtin.command": {"argv": ["iptables", "-V"]}},
            {"ansible.builtin.command": {"argv": [galaxy, "collection", "list"]}},
            {"ansible.builtin.command": "true", "when": False},
        ],
    )
    assert results[0]["_task"] == "rules"
    assert [r.get("skipped", False) for r in results] == [False, False, False, True]
    assert not any(r["failed"] for r in results[:3])
    assert "-A INPUT -s 192.0.2.99/32 -j DROP" in results[0]["stdout"]
    assert VERSION_TAG[variant] in results[1]["stdout"]
    assert "hostfw.netfilter" in results[2]["stdout"]


def test_run_module_check_and_diff(netns, run_module):
    dest = netns.workdir / "file.txt"
    args = {"dest": str(dest), "content": "hello\n"}
    res = run_module(netns, "ansible.builtin.copy", args, check=True, diff=True)
    assert res["changed"] is True
    assert not dest.exists()
    assert res["diff"][0]["after"] == "hello\n"
    res = run_module(netns, "ansible.builtin.copy", args)
    assert res["changed"] is True and not res.get("diff")  # copy returns [] without --diff
    assert dest.read_text() == "hello\n"


def test_failing_task_is_a_result(netns, run_module, run_playbook):
    res = run_module(netns, "ansible.builtin.command", {"argv": ["iptables", "-A", "NOPE"]})
    assert res["failed"] is True
    assert res["rc"] != 0 and "No chain/target/match" in res["stderr"]
    res = run_module(netns, "ansible.builtin.command", {"cmd": "true", "bogus": 1})
    assert res["failed"] is True and "bogus" in res["msg"]
    results = run_playbook(
        netns, [{"ansible.builtin.command": "false"}, {"ansible.builtin.command": "true"}]
    )
    assert len(results) == 1 and results[0]["failed"] is True


def test_unknown_module_raises(netns, run_module):
    with pytest.raises(AnsibleRunError, match="no_such_module"):
        run_module(netns, "hostfw.netfilter.no_such_module", {})
