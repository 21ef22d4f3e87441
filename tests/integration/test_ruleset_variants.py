"""ruleset warns when the other iptables variant also holds rules: the kernel
enforces both sets, and the task manages only one of them."""

from __future__ import annotations

from ruleset_cases import by_name, task

OTHER_TOOL = {"nft": "iptables-legacy", "legacy": "iptables-nft"}


def test_warns_when_both_variants_hold_rules(netns, run_playbook, variant):
    other = OTHER_TOOL[variant]
    tasks = [
        task("gathered", name="one variant"),
        {
            "name": "other variant",
            "ansible.builtin.command": {
                "argv": [other, "-A", "INPUT", "-s", "203.0.113.9", "-j", "DROP"]
            },
        },
        task("gathered", name="both variants"),
    ]
    res = by_name(run_playbook(netns, tasks))
    assert len(res) == 3 and not any(r["failed"] for r in res.values()), res
    assert not res["one variant"].get("warnings"), res["one variant"]["warnings"]
    warnings = res["both variants"].get("warnings") or []
    assert len(warnings) == 1, warnings  # IPv4 only: the other variant has no IPv6 rules
    assert "legacy" in warnings[0] and "nf_tables" in warnings[0] and "ipv4" in warnings[0]
    # the rule of the other variant is not ours to see
    gathered = res["both variants"]["gathered"]
    assert "203.0.113.9" not in str(gathered)
