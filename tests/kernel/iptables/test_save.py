"""The save parser (_iptables/save.py) and gathering (_iptables/gather.py) on the
dumps the kernel prints for a host that also runs Docker, fail2ban and kube-proxy
(tests/fixtures/saves.py), restored into a network namespace: foreign rules survive
gathering (as {'raw': ...} when they are outside the vocabulary), and gathering and
feeding back changes nothing. `overridden` with `ignore` on the same host:
tests/kernel/plan/test_ignore.py."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import gather as GATHER
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGN
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import states as STATES
from ansible_collections.hostfw.netfilter.tests.fixtures.saves import HOST, OUTSIDE_VOCABULARY
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import shape
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (
    FAMILIES,
    host_fixture,
    host_state,
    needs_kernel,
)

BOTH = ("ipv4", "ipv6")


# (variant, namespace) with the Docker/fail2ban/kube-proxy-like rules restored
host = host_fixture(HOST)
pytestmark = needs_kernel


def test_save_parses_to_the_rules_restored(host):
    variant, ns = host
    state = host_state(ns, variant)
    for fam in FAMILIES:
        want = SAVE.parse_save(HOST[fam])
        for tname, tbl in want.items():
            assert shape(state[fam][tname]) == shape(tbl)


def test_foreign_rules_outside_the_vocabulary_come_back_raw(host):
    variant, ns = host
    state = host_state(ns, variant)
    raw_seen = 0
    for fam in FAMILIES:
        for tname, tbl in state[fam].items():
            for cname, chain in tbl.chains.items():
                for rule in chain.rules:
                    data = GATHER.rule_to_config(rule, fam, tname, cname)
                    outside = any(w in rule.tokens for w in OUTSIDE_VOCABULARY)
                    if outside:
                        raw_seen += 1
                        assert set(data) == {"raw"}, data
                        assert tuple(TOK.tokenize(data["raw"])) == rule.tokens
                    else:
                        assert "raw" not in data, (cname, data)
                    again = RULE.compile_rule(data, (fam,), tname, cname, 1)
                    assert [r.tokens for _f, r in again] == [rule.tokens]
    assert raw_seen == 5  # 2 addrtype + 2 mark (ipv4), 1 mark (ipv6)


def test_foreign_rules_inside_the_vocabulary_are_structured(host):
    variant, ns = host
    f4 = host_state(ns, variant)["ipv4"]["filter"]

    def conf(chain, i):
        return GATHER.rule_to_config(f4.chains[chain].rules[i], "ipv4", "filter", chain)

    assert conf("FORWARD", 2) == {
        "out_interface": "docker0",
        "ctstate": ["RELATED", "ESTABLISHED"],
        "jump": "ACCEPT",
    }
    assert conf("f2b-sshd", 0) == {"source": "203.0.113.5/32", "jump": "REJECT"}
    assert conf("INPUT", 1) == {"protocol": "tcp", "destination_ports": [22], "jump": "f2b-sshd"}
    assert conf("INPUT", 2) == {
        "ctstate": ["NEW"],
        "comment": "kubernetes service portals",
        "jump": "KUBE-SERVICES",
    }
    assert conf("INPUT", 0) == {"in_interface": "lo", "name": "loopback", "jump": "ACCEPT"}
    assert f4.chains["INPUT"].rules[0].owned and not f4.chains["INPUT"].rules[1].owned


@pytest.mark.parametrize("state", ["overridden", "replaced", "merged"])
def test_gathered_config_fed_back_changes_nothing(host, state):
    variant, ns = host
    current = host_state(ns, variant)
    config = GATHER.tables_to_config(current)
    desired = CONFIG.compile_config(config, BOTH)
    plans = STATES.plan(current, desired, state, IGN.Ignore([]), BOTH)
    assert {(p.family, p.before.name) for p in plans} >= {
        ("ipv4", "filter"),
        ("ipv4", "nat"),
        ("ipv6", "filter"),
    }
    for p in plans:
        assert p.ops == [], (p.family, p.before.name, RESTORE.render_ops(p.ops))
        assert shape(p.after) == shape(current[p.family][p.before.name])


def test_gathered_config_renders_the_same_host(host):
    variant, ns = host
    current = host_state(ns, variant)
    rendered = STATES.render_config(CONFIG.compile_config(GATHER.tables_to_config(current), BOTH))
    for fam in FAMILIES:
        back = SAVE.parse_save(rendered[fam])
        for tname, tbl in current[fam].items():
            assert shape(back[tname]) == shape(tbl)
