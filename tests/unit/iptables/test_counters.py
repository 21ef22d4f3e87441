"""The counters of rules_info (module_utils/_iptables/counters.py)."""

from __future__ import annotations

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.counters import (
    with_counters,
)
from ansible_collections.hostfw.netfilter.tests.fixtures.saves import SSH_THEN_DROP

HOST = SAVE.parse_save(SSH_THEN_DROP)


def test_with_counters():
    (entry,) = with_counters({"ipv4": HOST})
    rules = entry["chains"][0]["rules"]
    assert entry["ip_version"] == "ipv4"
    assert [r["counters"] for r in rules] == [
        {"packets": 3, "bytes": 180},
        {"packets": 0, "bytes": 0},
    ]
