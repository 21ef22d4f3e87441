"""Shared pieces of the ``hostfw.netfilter.ruleset`` integration tests.

Tasks are built as plain dicts for ``run_playbook``; host state is read with
``ns.save()`` and compared with the ``# Generated``/``# Completed`` comment lines
stripped (they carry a timestamp).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

MODULE = "hostfw.netfilter.ruleset"
FAMILIES = ("ipv4", "ipv6")

# (variant, backend): python_iptables speaks only the legacy API.
COMBOS = [
    pytest.param("nft", "restore", id="nft-restore"),
    pytest.param("legacy", "restore", id="legacy-restore"),
    pytest.param("legacy", "python_iptables", id="legacy-python_iptables"),
]
RESTORE_COMBOS = COMBOS[:2]
VARIANT_NAME = {"nft": "nf_tables", "legacy": "legacy"}


def strip(save_text: str) -> str:
    """iptables-save output without its timestamped comment lines (and blank lines)."""
    lines = save_text.splitlines()
    return "".join(line + "\n" for line in lines if line and not line.startswith("#"))


def unquote(text: str) -> str:
    """Drop the quotes iptables-save puts around words that need none
    (``--comment "hostfw:ssh"``), to compare it with text that omits them."""
    return re.sub(r'"([^"\s\\]*)"', r"\1", text)


def saves(ns) -> dict[str, str]:
    """{family: stripped save} of a namespace."""
    return {fam: strip(ns.save(fam)) for fam in FAMILIES}


# Tests run as root, perhaps from an SSH session whose SSH_CONNECTION the
# namespaces inherit; protect_connection would then judge every rule change by
# it. Tasks clear it unless a test sets it on purpose.
NO_SSH = {"SSH_CONNECTION": ""}


def task(state: str, config=None, *, name: str | None = None, **params) -> dict:
    """A ruleset task. Keys starting with ``_`` become task keywords (``_check_mode``,
    ``_environment``…); the environment has SSH_CONNECTION cleared unless given."""
    params.setdefault("_environment", NO_SSH)
    args = {"state": state}
    if config is not None:
        args["config"] = config
    keywords = {}
    for key, value in params.items():
        if key.startswith("_"):
            keywords[key[1:]] = value
        else:
            args[key] = value
    t = {"name": name or state, MODULE: args}
    t.update(keywords)
    return t


_SPLIT = "=====hfw-split====="


def save_task(name: str) -> dict:
    """A task that records both families' iptables-save inside a playbook run."""
    script = f"iptables-save && echo {_SPLIT} && ip6tables-save"
    return {
        "name": name,
        "ansible.builtin.command": {"argv": ["sh", "-c", script]},
        "changed_when": False,
    }


def recorded(result: dict) -> dict[str, str]:
    """{family: stripped save} that a ``save_task`` result recorded."""
    assert not result.get("failed"), result
    v4, v6 = result["stdout"].split(_SPLIT)  # Ansible strips the final newline
    return {"ipv4": strip(v4), "ipv6": strip(v6)}


def run_parallel(run_playbook, jobs):
    """Run ``[(ns, tasks), ...]`` playbooks concurrently; their results, in order."""
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run_playbook, ns, tasks) for ns, tasks in jobs]
        return [f.result() for f in futures]


def by_name(results: list[dict]) -> dict[str, dict]:
    out = {}
    for r in results:
        assert r["_task"] not in out, f"task name {r['_task']!r} used twice"
        out[r["_task"]] = r
    return out


def chains(save_text: str, table: str = "filter") -> dict[str, tuple[str, list[str]]]:
    """{chain: (policy, [rule specs after '-A CHAIN ']) } of one table of a save."""
    out: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in save_text.splitlines():
        if line.startswith("*"):
            current = line[1:]
        elif current != table:
            continue
        elif line.startswith(":"):
            name, policy = line[1:].split()[:2]
            out[name] = (policy, [])
        elif line.startswith("-A "):
            _op, name, spec = line.split(" ", 2)
            out[name][1].append(spec)
    return out


def tables(save_text: str) -> list[str]:
    return [line[1:] for line in save_text.splitlines() if line.startswith("*")]
