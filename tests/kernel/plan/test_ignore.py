"""`overridden` with `ignore` (_plan/states.py, _plan/ignore.py) on a host that also
runs Docker, fail2ban and kube-proxy (tests/fixtures/saves.py), restored into a
network namespace: the foreign rules are kept, each right after the rule of ours
it followed, also when the plan is applied for real."""

from __future__ import annotations

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGN
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import states as STATES
from ansible_collections.hostfw.netfilter.tests.fixtures.saves import HOST, IGNORE, OUR_CONFIG
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import (
    anchors,
    is_subsequence,
    shape,
)
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (
    FAMILIES,
    VARIANTS,
    host_fixture,
    host_state,
    namespace,
    needs_kernel,
)

BOTH = ("ipv4", "ipv6")


# (variant, namespace) with the Docker/fail2ban/kube-proxy-like rules restored
host = host_fixture(HOST)
pytestmark = needs_kernel


def foreign_of(tbl):
    return {n: [r.tokens for r in c.rules if not r.owned] for n, c in tbl.chains.items()}


def ignored_of(tbl, ignore):
    return {
        n: [r.tokens for r in c.rules if ignore.chain(n) or ignore.rule(r)]
        for n, c in tbl.chains.items()
    }


def overridden_plans(current):
    desired = CONFIG.compile_config(OUR_CONFIG, BOTH)
    return STATES.plan(current, desired, "overridden", IGN.Ignore(IGNORE), BOTH)


def test_overridden_with_ignore_keeps_ignored_rules_in_place(host):
    variant, ns = host
    current = host_state(ns, variant)
    ignore = IGN.Ignore(IGNORE)
    plans = overridden_plans(current)
    assert {p.before.name for p in plans} == {"filter"}  # nat is not in config: untouched
    for p in plans:
        before = ignored_of(p.before, ignore)
        after = p.after
        for name, rules in before.items():
            assert name in after.chains, name
            got = [r.tokens for r in after.chains[name].rules]
            assert is_subsequence(rules, got), (name, rules, got)
            # each stays right after the rule of ours it followed
            wanted = {r.name for r in after.chains[name].rules if r.owned}
            assert anchors(p.before.chains[name].rules, wanted, ignore) == anchors(
                after.chains[name].rules, wanted, ignore
            ), name
        assert after.chains["INPUT"].policy == "DROP"
        ours = ["loopback", "established", "ssh", "web"]
        if p.family == "ipv6":  # the ssh rule has an IPv4 source
            ours.remove("ssh")
        assert [r.name for r in after.chains["INPUT"].rules if r.owned] == ours


def test_overridden_with_ignore_keeps_every_foreign_rule(host):
    """Docker's, fail2ban's and kube-proxy's rules all survive, in order -
    Docker's FORWARD rules (`-o docker0 ... -j ACCEPT`) included."""
    variant, ns = host
    current = host_state(ns, variant)
    for p in overridden_plans(current):
        after = foreign_of(p.after)
        for name, rules in foreign_of(p.before).items():
            if name == "INPUT":  # INPUT is listed in config: ours replace the rest
                rules = [t for t in rules if IGN.Ignore(IGNORE).rule(RULE.rule_from_tokens(t))]
            assert is_subsequence(rules, after.get(name, [])), (p.family, name)


def test_overridden_with_ignore_applied_in_the_kernel():
    """Restore the planned transaction for real and compare the save with plan.after;
    then gathering again and planning again changes nothing."""
    for variant in VARIANTS:
        with namespace() as ns:
            for fam in FAMILIES:
                ns.restore(variant, fam, HOST[fam])
            current = host_state(ns, variant)
            plans = overridden_plans(current)
            for p in plans:
                assert p.ops
                ns.restore(variant, p.family, RESTORE.restore_text([p]))
            now = host_state(ns, variant)
            for p in plans:
                assert shape(now[p.family][p.before.name]) == shape(p.after), variant
            # nat was not touched
            assert shape(now["ipv4"]["nat"]) == shape(current["ipv4"]["nat"])
            again = overridden_plans(now)
            assert all(p.ops == [] for p in again), [RESTORE.render_ops(p.ops) for p in again]
