"""The kernel (in a network namespace) confirms the facts the value checks of the bad
input tests (tests/unit/{rules,iptables,plan}/test_bad_input.py, issue #10 section 1)
rely on: odd characters in comments and chain names come back exactly, chain names
are counted in bytes, and how masks are stored."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import values as IV
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules import values as RV
from ansible_collections.hostfw.netfilter.tests.fixtures.bad_input import CTX, GOOD_CHAINS, refused
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (
    FAMILIES,
    VARIANTS,
    namespace,
    needs_kernel,
)

KERNEL_COMMENTS = ["a\u2028b", "a\u2029b", "a\x85b", "x\xa0y\u3000z", "q\"\\'"]


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("family", FAMILIES)
def test_kernel_round_trips_odd_comments_and_chain_names(variant, family):
    """A comment holding U+2028 (and friends) and a foreign chain whose name holds
    one come back from iptables-save exactly, through parse_save."""
    foreign = "F\u2028x"
    rules = [
        ("INPUT", ("-p", "tcp", "-m", "comment", "--comment", c, "-j", "ACCEPT"))
        for c in KERNEL_COMMENTS
    ]
    rules.append((foreign, ("-j", "DROP")))
    text = "*filter\n:%s - [0:0]\n" % foreign
    text += "".join("-A %s %s\n" % (ch, TOK.render_tokens(t)) for ch, t in rules)
    text += "COMMIT\n"
    with namespace() as ns:
        ns.restore(variant, family, text)
        saved = SAVE.parse_save(ns.save(variant, family, "filter"))["filter"]
    assert [r.comment for r in saved.chains["INPUT"].rules] == KERNEL_COMMENTS
    assert [r.tokens for r in saved.chains["INPUT"].rules] == [t for ch, t in rules[:-1]]
    assert [r.tokens for r in saved.chains[foreign].rules] == [("-j", "DROP")]


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
def test_kernel_counts_chain_name_bytes(variant):
    """28 bytes of UTF-8 pass and 29 do not, however many characters: the limit
    chain_name_problem enforces."""
    with namespace() as ns:
        for name in GOOD_CHAINS[:3]:
            assert IV.chain_name_problem(name) is None
            ns.restore(variant, "ipv4", "*filter\n:%s - [0:0]\nCOMMIT\n" % name)
        for name in ("A" * 29, "A" + "\xe9" * 14, "A" * 27 + "\xe9"):
            assert IV.chain_name_problem(name) is not None
            proc = ns.restore(variant, "ipv4", "*filter\n:%s - [0:0]\nCOMMIT\n" % name, check=False)
            assert proc.returncode != 0, name


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
def test_kernel_stores_masks(variant):
    """A netmask is stored as its prefix (what address() gives); a hostmask or
    another non-contiguous mask is stored as address AND mask / mask, which is
    not what ipaddress reads (so address() refuses it)."""
    specs = {
        "10.1.2.3/255.255.255.0": "10.1.2.0/24",
        "10.1.2.3/0.0.0.255": "0.0.0.3/0.0.0.255",
        "10.1.2.3/255.0.255.0": "10.0.2.0/255.0.255.0",
        "10.1.2.3/024": "10.1.0.0/20",
    }
    text = "*filter\n" + "".join("-A INPUT -s %s -j ACCEPT\n" % s for s in specs) + "COMMIT\n"
    with namespace() as ns:
        ns.restore(variant, "ipv4", text)
        saved = SAVE.parse_save(ns.save(variant, "ipv4", "filter"))["filter"]
    got = [r.tokens[1] for r in saved.chains["INPUT"].rules]
    assert got == list(specs.values())
    RV._ADDRESS_CACHE.clear()
    assert RV.address(CTX, "source", "10.1.2.3/255.255.255.0")[2] == got[0]
    for spec in list(specs)[1:]:
        refused(lambda spec=spec: RV.address(CTX, "source", spec), "source")
