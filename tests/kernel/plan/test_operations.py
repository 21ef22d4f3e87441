"""The kernel's own delete-by-specification semantics, which simulate
(module_utils/_plan/operations.py) must copy exactly, and the exact lines of
transition: restored in a network namespace (nf_tables and legacy) they leave what
the model says. The pure properties: tests/unit/plan/test_operations.py."""

from __future__ import annotations

import random

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import PAIRS, RULES, shape
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (
    VARIANTS,
    namespace,
    needs_kernel,
)


def kernel_pairs():
    """Duplicate-heavy pairs (the cases where delete by specification matters)."""
    rng = random.Random(1010)
    pairs = []
    for _i in range(40):
        pair = []
        for _side in range(2):
            t = SAVE.Table.empty("filter")
            t.chains["INPUT"].rules = [rng.choice(RULES[:3]) for _k in range(rng.randint(0, 7))]
            pair.append(t)
        pairs.append(tuple(pair))
    return pairs


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
def test_simulate_is_what_the_kernel_does(variant):
    """The rendered operations restored for real leave what simulate says, for
    each pair (duplicates included) and for its inverse."""
    with namespace() as ns:
        for n, (a, b) in enumerate(kernel_pairs()):
            ns.restore(variant, "ipv4", SAVE.render_table(a), noflush=False)
            ops = OPS.transition(a, b)
            for step, want in ((ops, b), (OPS.inverse(ops, a), a)):
                lines = RESTORE.render_ops(step)
                if lines:
                    ns.restore(variant, "ipv4", "*filter\n%s\nCOMMIT\n" % "\n".join(lines))
                got = SAVE.parse_save(ns.save(variant, "ipv4", "filter"))["filter"]
                assert shape(got) == shape(want), "pair %d: %r" % (n, lines)


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
def test_transition_in_the_kernel(variant):
    with namespace() as ns:
        for n, (a, b) in enumerate(PAIRS):
            # a full restore replaces the table, user chains of earlier pairs included
            ns.restore(variant, "ipv4", SAVE.render_table(a), noflush=False)
            start = SAVE.parse_save(ns.save(variant, "ipv4", "filter"))["filter"]
            assert shape(start) == shape(a)
            text = RESTORE.render_ops(OPS.transition(a, b))
            if text:
                ns.restore(variant, "ipv4", "*filter\n%s\nCOMMIT\n" % "\n".join(text))
            got = SAVE.parse_save(ns.save(variant, "ipv4", "filter"))["filter"]
            assert shape(got) == shape(b), "pair %d: %r" % (n, text)
