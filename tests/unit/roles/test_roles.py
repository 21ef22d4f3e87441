"""Each role's meta/argument_specs.yml agrees with its defaults/main.yml: the same
variables, the documented default equal to the real one, a type and a
description for every option."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = sorted(p for p in (Path(__file__).resolve().parents[3] / "roles").iterdir() if p.is_dir())
TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict, "raw": object}


def test_roles_exist():
    assert {r.name for r in ROLES} >= {"baseline", "webserver", "database", "docker_host"}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_argument_specs_agree_with_defaults(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert set(options) == set(defaults), "variables differ from defaults/main.yml"
    for name, opt in options.items():
        assert opt.get("description"), f"{name}: no description"
        assert opt.get("type") in TYPES, f"{name}: type {opt.get('type')!r}"
        assert "default" in opt, f"{name}: no default documented"
        assert opt["default"] == defaults[name], f"{name}: default differs"
        assert isinstance(defaults[name], TYPES[opt["type"]]), (
            f"{name}: default is not {opt['type']}"
        )
        if opt["type"] == "list" and defaults[name]:
            elements = opt.get("elements")
            assert elements in TYPES, f"{name}: list without elements"
            assert all(isinstance(v, TYPES[elements]) for v in defaults[name]), name


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_has_readme_with_every_variable(role):
    readme = (role / "README.md").read_text()
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    missing = [v for v in defaults if f"`{v}`" not in readme]
    assert not missing, f"README does not list {missing}"
    assert (role / "meta" / "main.yml").is_file()
