"""The EXAMPLES of hostfw.netfilter.ruleset run as written: a documentation
example that fails is a bug."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml
from ruleset_cases import MODULE, NO_SSH

MODULE_FILE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "ruleset.py"


def examples():
    tree = ast.parse(MODULE_FILE.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES":
            return yaml.safe_load(node.value.value)
    raise AssertionError("no EXAMPLES in ruleset.py")


def test_examples_parse():
    tasks = examples()
    assert isinstance(tasks, list) and len(tasks) >= 5
    for t in tasks:
        assert MODULE in t, t  # FQCN, as the conventions ask
        assert t.get("name"), t


@pytest.mark.parametrize("backend", ["default"])
def test_examples_run(netns, run_playbook, variant, backend):
    tasks = [{**t, "environment": NO_SSH} for t in examples()]
    results = run_playbook(netns, tasks)
    failed = [(r["_task"], r.get("msg")) for r in results if r.get("failed")]
    assert not failed, failed
    assert [r["_task"] for r in results] == [t["name"] for t in tasks]
