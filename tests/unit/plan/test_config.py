"""The config errors of compile_config (_plan/config.py) and their messages: each
names the table, the chain, the rule and the key."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

BOTH = ("ipv4", "ipv6")


def config_error(config, families=BOTH):
    with pytest.raises(RuleError) as exc:
        CONFIG.compile_config(config, families)
    return str(exc.value)


def test_policy_on_user_chain():
    msg = config_error([{"table": "filter", "chains": [{"name": "HOSTFW-WEB", "policy": "DROP"}]}])
    assert "table filter" in msg and "HOSTFW-WEB" in msg and "key 'policy'" in msg


def test_policy_unknown_value():
    msg = config_error([{"chains": [{"name": "INPUT", "policy": "REJECT"}]}])
    assert "chain INPUT" in msg and "key 'policy'" in msg and "REJECT" in msg


def test_chain_name_29_chars():
    name = "C" * 29
    msg = config_error([{"table": "filter", "chains": [{"name": name, "rules": []}]}])
    assert "table filter" in msg and name in msg and "key 'name'" in msg and "29" in msg


def test_chain_name_28_chars_is_fine():
    name = "C" * 28
    desired = CONFIG.compile_config(
        [{"chains": [{"name": name, "rules": [{"jump": "ACCEPT"}]}]}], BOTH
    )
    assert [r.tokens for r in desired[("ipv4", "filter")][name].rules] == [("-j", "ACCEPT")]


def test_duplicate_rule_names():
    rules = [{"name": "ssh", "jump": "ACCEPT"}, {"name": "ssh", "jump": "DROP"}]
    msg = config_error([{"chains": [{"name": "INPUT", "rules": rules}]}])
    assert "table filter" in msg and "chain INPUT" in msg and "'ssh'" in msg and "key 'name'" in msg


def test_duplicate_rule_names_in_different_chains_are_fine():
    config = [
        {
            "chains": [
                {"name": "INPUT", "rules": [{"name": "ssh", "jump": "ACCEPT"}]},
                {"name": "OUTPUT", "rules": [{"name": "ssh", "jump": "ACCEPT"}]},
            ]
        }
    ]
    desired = CONFIG.compile_config(config, BOTH)
    assert desired[("ipv6", "filter")]["OUTPUT"].rules[0].name == "ssh"


def test_rule_error_in_config_names_chain_and_index():
    config = [{"chains": [{"name": "HOSTFW-DB", "rules": [{"jump": "ACCEPT"}, {"sauce": 1}]}]}]
    msg = config_error(config)
    assert "chain HOSTFW-DB" in msg and "rule #2" in msg and "key 'sauce'" in msg


@pytest.mark.parametrize(
    "config, key",
    [
        ([{"table": "filtre", "chains": []}], "table"),
        ([{"table": "filter", "chainz": []}], "chainz"),
        ([{"chains": [{"name": "INPUT", "rulez": []}]}], "rulez"),
        ([{"chains": [{"name": "ACCEPT"}]}], "name"),
        ([{"chains": [{"name": "-bad"}]}], "name"),
        ([{"chains": [{"name": "INPUT"}, {"name": "INPUT"}]}], "name"),
        ([{"table": "filter"}, {"table": "filter"}], "table"),
        ([{"chains": [{"name": "INPUT", "rules": {"jump": "ACCEPT"}}]}], "rules"),
    ],
)
def test_config_errors_name_the_key(config, key):
    assert "key '%s'" % key in config_error(config)
