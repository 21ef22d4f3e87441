"""Bad input of planning (_plan/placement.py, _plan/config.py) that generated tests
found (issue #10, section 1): wrong types in a config, chain names, positions; each
refused with a RuleError that names the key, and good input still accepted."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import values as IV
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONF
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import placement as PLACE
from ansible_collections.hostfw.netfilter.tests.fixtures.bad_input import (
    BAD_CHAINS,
    GOOD_CHAINS,
    UNICODE_DIGITS,
    refused,
)

# ------------------------------------------------------ 2. positions


@pytest.mark.parametrize("value", UNICODE_DIGITS + ["1_0", "1.0", 1.0, 2.5, "+2"])
def test_parse_position_refuses(value):
    refused(lambda: PLACE.parse_position(value), "position")


@pytest.mark.parametrize("value, want", [("3", 3), (" 3 ", 3), (3, 3), ("Prepend", "prepend")])
def test_parse_position_good(value, want):
    assert PLACE.parse_position(value) == want


# ---------------------------------------- 3. wrong types in a config


@pytest.mark.parametrize(
    "entry, key",
    [
        ({"table": ["filter"]}, "table"),
        ({"table": {"filter": 1}}, "table"),
        ({"table": 1}, "table"),
        ({"table": "filter", "ip_version": ["ipv4"]}, "ip_version"),
        ({"table": "filter", "ip_version": {"ipv4": 1}}, "ip_version"),
        ({"table": "filter", "ip_version": 4}, "ip_version"),
        ({"table": "filter", "chains": {"name": "INPUT"}}, "chains"),
        ({"table": "filter", "chains": "INPUT"}, "chains"),
        ({"table": "filter", 1: "x"}, "1"),
        ({"table": "filter", 1: "x", "zz": 2}, "1"),
        ({"table": "filter", "chains": [{"name": ["INPUT"]}]}, "name"),
        ({"table": "filter", "chains": [{"name": {"INPUT": 1}}]}, "name"),
        ({"table": "filter", "chains": [{"name": 5}]}, "name"),
        ({"table": "filter", "chains": [{"name": None}]}, "name"),
        ({"table": "filter", "chains": [{"name": "INPUT", "policy": ["DROP"]}]}, "policy"),
        ({"table": "filter", "chains": [{"name": "INPUT", "policy": {"DROP": 1}}]}, "policy"),
        ({"table": "filter", "chains": [{"name": "INPUT", "policy": True}]}, "policy"),
        ({"table": "filter", "chains": [{"name": "INPUT", 2: "x"}]}, "2"),
    ],
)
def test_compile_config_wrong_types(entry, key):
    refused(lambda: CONF.compile_config([entry], ("ipv4", "ipv6")), key)


@pytest.mark.parametrize(
    "entry, want",
    [
        ({"table": "filter", "chains": None}, {}),
        ({"table": "filter", "chains": [{"name": "INPUT", "policy": "drop"}]}, {"INPUT": "DROP"}),
        ({"ip_version": "ipv4", "chains": [{"name": "HFW-\xe9", "rules": []}]}, {"HFW-\xe9": None}),
    ],
)
def test_compile_config_good(entry, want):
    got = CONF.compile_config([entry], ("ipv4",))[("ipv4", "filter")]
    assert {n: c.policy for n, c in got.items()} == want


# ---------------------------------------------------- 4. chain names


@pytest.mark.parametrize("name, word", BAD_CHAINS, ids=[ascii(n) for n, _w in BAD_CHAINS])
def test_bad_chain_name_in_config(name, word):
    entry = {"table": "filter", "chains": [{"name": name}]}
    refused(lambda: CONF.compile_config([entry], ("ipv4",)), "name", word)


@pytest.mark.parametrize("name", GOOD_CHAINS, ids=ascii)
def test_good_chain_names(name):
    assert IV.chain_name_problem(name) is None
    CONF.check_chain_name("table filter", name)


def test_chain_name_of_a_target_is_refused_only_as_a_chain():
    assert IV.chain_name_problem("ACCEPT") is None  # a jump target
    refused(lambda: CONF.check_chain_name("table filter", "ACCEPT"), "name", "target")
