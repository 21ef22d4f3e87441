"""The undo of a change (module_utils/_plan/revert.py) in the kernel: after a
change is applied, its revert text restored with --noflush puts every chain the
change touched back as it was, in nf_tables and legacy; a chain another program
added meanwhile stays, and a foreign jump to a chain the change created makes
the kernel refuse the whole undo (nothing of it applied)."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.revert import revert_text
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import PAIRS, shape, table
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (
    VARIANTS,
    namespace,
    needs_kernel,
)

FOREIGN = ":DOCKER-USER - [0:0]\n-A FORWARD -j DOCKER-USER\n-A DOCKER-USER -j RETURN\n"


def read(ns, variant):
    return SAVE.parse_save(ns.save(variant, "ipv4", "filter"))["filter"]


def apply(ns, variant, plan):
    lines = RESTORE.render_ops(plan.ops)
    if lines:
        ns.restore(variant, "ipv4", "*filter\n%s\nCOMMIT\n" % "\n".join(lines))


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_undo_puts_the_touched_chains_back(variant):
    with namespace() as ns:
        for n, (a, b) in enumerate(PAIRS):
            ns.restore(variant, "ipv4", SAVE.render_table(a), noflush=False)
            plan = OPS.plan_of("ipv4", a, b)
            apply(ns, variant, plan)
            assert shape(read(ns, variant)) == shape(b), n
            undo = revert_text([plan], "ipv4")
            if undo:
                ns.restore(variant, "ipv4", undo)
            assert shape(read(ns, variant)) == shape(a), "pair %d:\n%s" % (n, undo)


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
def test_other_programs_chains_stay_and_a_foreign_jump_refuses_the_undo(variant):
    a = table("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT")
    b = table(":HOSTFW-NEW - [0:0]\n-A INPUT -j HOSTFW-NEW\n-A HOSTFW-NEW -j DROP")
    with namespace() as ns:
        ns.restore(variant, "ipv4", SAVE.render_table(a), noflush=False)
        plan = OPS.plan_of("ipv4", a, b)
        apply(ns, variant, plan)
        ns.restore(variant, "ipv4", "*filter\n%sCOMMIT\n" % FOREIGN)  # Docker, meanwhile
        ns.restore(variant, "ipv4", revert_text([plan], "ipv4"))
        got = read(ns, variant)
        assert [r.text() for r in got.chains["INPUT"].rules] == [
            "-p tcp -m tcp --dport 22 -j ACCEPT"
        ]
        assert "HOSTFW-NEW" not in got.chains
        assert [r.text() for r in got.chains["FORWARD"].rules] == ["-j DOCKER-USER"]
        # a foreign jump to the chain the change made: the kernel refuses the undo
        apply(ns, variant, plan)  # the change again, Docker's chain beside it
        ns.restore(variant, "ipv4", "*filter\n-A OUTPUT -j HOSTFW-NEW\nCOMMIT\n")
        before = ns.save(variant, "ipv4", "filter")
        res = ns.restore(variant, "ipv4", revert_text([plan], "ipv4"), check=False)
        assert res.returncode != 0
        assert shape(read(ns, variant)) == shape(SAVE.parse_save(before)["filter"])
