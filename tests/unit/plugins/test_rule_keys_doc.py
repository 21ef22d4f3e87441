"""The rule keys are documented once: the doc fragment is generated from the key
table, and the rule module's options are the table's keys."""

import importlib.util
from pathlib import Path

import yaml

from ansible_collections.hostfw.netfilter.plugins.doc_fragments import rule_keys
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import keys as K

ROOT = Path(__file__).resolve().parents[3]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "rule_keys_doc", ROOT / "scripts" / "rule_keys_doc.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fragment_is_generated_from_the_table():
    gen = _generator()
    assert (
        gen.render().split('DOCUMENTATION = r"""', 1)[1].rsplit('"""', 1)[0]
        == rule_keys.ModuleDocFragment.DOCUMENTATION
    ), "run scripts/rule_keys_doc.py"


def test_every_key_has_one_line_of_documentation():
    options = yaml.safe_load(rule_keys.ModuleDocFragment.DOCUMENTATION)["options"]
    gen = _generator()
    assert list(options) == [k for k in K.NAMES if k not in gen.OWN]
    for key in K.KEYS:
        assert key.doc and "\n" not in key.doc, key.name


def test_the_rule_module_takes_every_key():
    path = ROOT / "plugins" / "modules" / "rule.py"
    spec = importlib.util.spec_from_file_location("hfw_rule_module", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    doc = yaml.safe_load(mod.DOCUMENTATION)
    assert "hostfw.netfilter.rule_keys" in doc["extends_documentation_fragment"]
    hand = set(doc["options"]) & set(
        yaml.safe_load(rule_keys.ModuleDocFragment.DOCUMENTATION)["options"]
    )
    assert not hand, "documented by hand as well as in the fragment: %s" % sorted(hand)
