# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The undo of a change, as one ``iptables-restore --noflush`` transaction per
table: the chains the change touched go back to what they were before it; every
other chain (and whatever other programs add to them meanwhile) is left alone.
Written when the change is made, so that a process which knows nothing of this
collection can run it later (the rollback timer). Pure.

Per table: each touched user chain that existed before is declared (``:CHAIN``
creates it or, with --noflush, empties it), each touched built-in chain is
flushed and gets its policy back, the rules from before are appended, and the
chains the change created are emptied and deleted last, once nothing of ours
jumps to them. A chain that another program made a target of meanwhile cannot
be deleted: the whole transaction is then refused by the kernel, and nothing of
it is applied."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import quote


def _touched(plan):
    """The chains the change touched: those its operations name, and those whose
    policy or existence differ (operations name them too, but be explicit)."""
    names = list(plan.touched())
    for name in list(plan.before.chains) + list(plan.after.chains):
        b, a = plan.before.chains.get(name), plan.after.chains.get(name)
        differs = (b is None) != (a is None) or (b and a and b.policy != a.policy)
        if differs and name not in names:
            names.append(name)
    return names


def revert_lines(plan):
    """The restore lines (``*table`` ... ``COMMIT``) that undo `plan`, or []
    when it changes nothing."""
    if not plan.ops:
        return []
    before = plan.before
    builtin = V.BUILTIN_CHAINS.get(before.name, ())
    names = _touched(plan)
    head, body, tail = [], [], []
    for name in names:
        old = before.chains.get(name)
        if old is None:  # created by the change: emptied, then deleted
            tail += ["-F %s" % quote(name), "-X %s" % quote(name)]
            continue
        if name in builtin:
            head.append("-F %s" % quote(name))
            head.append("-P %s %s" % (quote(name), old.policy or "ACCEPT"))
        else:
            head.insert(0, ":%s - [0:0]" % quote(name))
        body += ["-A %s %s" % (quote(name), r.text()) for r in old.rules]
    # the -F of every new chain first, so that none still jumps to another
    flushes = [x for x in tail if x.startswith("-F ")]
    deletes = [x for x in tail if x.startswith("-X ")]
    return ["*%s" % before.name] + head + body + flushes + deletes + ["COMMIT"]


def revert_text(plans, family):
    """The whole undo of `plans` for one family, as restore input ('' when
    nothing changed in that family)."""
    lines = []
    for p in plans:
        if p.family == family:
            lines += revert_lines(p)
    return "\n".join(lines) + "\n" if lines else ""
