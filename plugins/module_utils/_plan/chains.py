# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one chain operation leaves: create, policy, flush, purge, delete with its
references. The pure planning behind hostfw.netfilter.chain."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import Chain
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as C
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError


def references(table, chain):
    """[(chain name, 1-based index, rule)] of every rule that jumps or goes to `chain`."""
    out = []
    for cname, ch in table.chains.items():
        if cname == chain:
            continue
        for i, r in enumerate(ch.rules, 1):
            if r.target == chain:
                out.append((cname, i, r))
    return out


def describe_reference(ref):
    cname, i, r = ref
    who = "'%s'" % r.name if r.name else r.text()
    return "%s rule %d (%s)" % (cname, i, who)


def check_chain_name(table, name):
    """A known table and a chain name the kernel accepts."""
    if not isinstance(table, str) or table not in V.BUILTIN_CHAINS:
        raise RuleError(
            "key 'table': unknown table %r (known: %s)" % (table, ", ".join(V.BUILTIN_CHAINS))
        )
    C.check_chain_name("table %s" % table, name)


def chain_edit(
    table, name, state, policy=None, flush=False, purge=False, ignore=None, force=False, family=None
):
    """The table after one chain operation, and the rules it removes as
    [(chain name, Rule)].

    present: create a missing user chain, set a built-in chain's policy, then
    `flush` (every rule) or `purge` (every rule without our name), both sparing
    what `ignore` matches. absent: delete a user chain; refused while other
    rules jump to it, unless `force`, which removes those jumps too."""
    after = table.copy()
    removed = []
    builtin = name in V.BUILTIN_CHAINS.get(table.name, ())
    where = "table %s%s, chain %s" % (table.name, " (%s)" % family if family else "", name)
    if state == "absent":
        if builtin:
            raise RuleError(
                "%s: key 'state': a built-in chain cannot be deleted; use flush or policy" % where
            )
        if name not in after.chains:
            return after, removed
        refs = references(after, name)
        if refs and not force:
            raise RuleError(
                "%s: cannot delete it while other rules jump to it: %s. Remove them first, or set "
                "force: true to remove them in the same transaction"
                % (where, "; ".join(describe_reference(r) for r in refs))
            )
        for cname, _i, r in refs:
            removed.append((cname, r))
        for cname in {ref[0] for ref in refs}:
            ch = after.chains[cname]
            ch.rules = [r for r in ch.rules if r.target != name]
        removed.extend((name, r) for r in after.chains[name].rules)
        del after.chains[name]
        return after, removed
    if policy is not None and not builtin:
        raise RuleError("%s: key 'policy': only built-in chains have a policy" % where)
    ch = after.chains.get(name)
    if ch is None:
        ch = after.chains[name] = Chain(name, "ACCEPT" if builtin else None)
    if policy is not None:
        ch.policy = policy
    if (flush or purge) and not (ignore is not None and ignore.chain(name)):
        keep = []
        for r in ch.rules:
            if (ignore is not None and ignore.rule(r)) or (not flush and r.owned):
                keep.append(r)
            else:
                removed.append((name, r))
        ch.rules = keep
    return after, removed
