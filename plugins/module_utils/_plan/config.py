# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of a ``config`` list: tables, chains and their rules compiled to the
desired state. Every error is raised here, before the host is read. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import compile_rule
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.values import (
    chain_name_problem,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.ignore import (
    compile_ignored_slot,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules import naming as N
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import families_of

_TABLE_KEYS = frozenset(("table", "chains", "ip_version"))


_CHAIN_KEYS = frozenset(("name", "policy", "rules", "ignored_slot"))


class DesiredChain:
    __slots__ = ("name", "policy", "rules", "builtin", "slot")

    def __init__(self, name, policy, rules, builtin, slot=None):
        self.name = name
        self.policy = policy
        self.rules = rules  # list of Rule, or None when the entry lists no rules
        self.builtin = builtin
        self.slot = slot  # IgnoredSlot of the entry's ignored_slot, or None


def _fail(where, key, msg):
    raise RuleError("%s: key '%s': %s" % (where, key, msg))


def check_chain_name(where, name):
    """A chain name the kernel accepts (RuleError naming `where` and the key);
    see chain_name_problem for what is refused."""
    if name is None or name == "":
        _fail(where, "name", "a chain needs a name")
    problem = chain_name_problem(name)
    if problem is not None:
        _fail(where, "name", "%r is not a valid chain name: %s" % (name, problem))
    if name in V.TARGETS:
        _fail(where, "name", "%r is the name of a target" % name)


def _unknown_key(entry, known):
    """The first key of `entry` that is not in `known` (keys of any type), or None."""
    unknown = sorted(str(k) for k in entry if k not in known)
    return unknown[0] if unknown else None


def compile_config(config, families):
    """Validate ``config`` and compile it to {(family, table): {chain: DesiredChain}}.

    Every error is raised here, before the host is read or touched."""
    if not isinstance(config, list):
        raise RuleError("config: must be a list of tables")
    desired = {}
    for ti, tentry in enumerate(config, 1):
        where, tname, fams, chains = _table_entry(ti, tentry, families)
        for fam in fams:
            if (fam, tname) in desired:
                _fail(where, "table", "listed twice for %s" % fam)
            desired[(fam, tname)] = {}
        for ci, centry in enumerate(chains, 1):
            for fam, chain in _chain_entry(where, ci, centry, tname, fams):
                chains_d = desired[(fam, tname)]
                if chain.name in chains_d:
                    _fail("%s, chain %s" % (where, chain.name), "name", "chain listed twice")
                chains_d[chain.name] = chain
    return desired


def _table_entry(ti, tentry, families):
    """-> (where, table name, families, chain entries) of one table entry."""
    where = "config table #%d" % ti
    if not isinstance(tentry, dict):
        raise RuleError("%s: must be a mapping" % where)
    unknown = _unknown_key(tentry, _TABLE_KEYS)
    if unknown is not None:
        _fail(where, unknown, "unknown key")
    tname = tentry.get("table", "filter")
    if not isinstance(tname, str):
        _fail(where, "table", "must be a table name, got %r" % (tname,))
    if tname not in V.BUILTIN_CHAINS:
        _fail(where, "table", "unknown table %r (known: %s)" % (tname, ", ".join(V.BUILTIN_CHAINS)))
    where = "table %s" % tname
    fams = families
    if tentry.get("ip_version") is not None:
        ipv = tentry["ip_version"]
        if not isinstance(ipv, str) or ipv not in N.IP_VERSIONS:
            _fail(where, "ip_version", "must be one of ipv4, ipv6, both; got %r" % (ipv,))
        fams = [f for f in families if f in families_of(ipv)]
    chains = tentry.get("chains")
    if chains is None:
        chains = []
    if not isinstance(chains, list):
        _fail(where, "chains", "must be a list of chains")
    return where, tname, fams, chains


def _policy(cwhere, centry, cname, builtin):
    policy = centry.get("policy")
    if policy is None:
        return None
    if not builtin:
        _fail(cwhere, "policy", "only built-in chains have a policy; %s is a user chain" % cname)
    if not isinstance(policy, str) or policy.upper() not in V.POLICIES:
        _fail(cwhere, "policy", "must be ACCEPT or DROP, got %r" % (policy,))
    return policy.upper()


def _chain_entry(where, ci, centry, tname, fams):
    """[(family, DesiredChain)] of one chain entry."""
    cwhere = "%s, chain #%d" % (where, ci)
    if not isinstance(centry, dict):
        raise RuleError("%s: must be a mapping" % cwhere)
    unknown = _unknown_key(centry, _CHAIN_KEYS)
    if unknown is not None:
        _fail(cwhere, unknown, "unknown key")
    cname = centry.get("name")
    check_chain_name(cwhere, cname)
    cwhere = "%s, chain %s" % (where, cname)
    builtin = cname in V.BUILTIN_CHAINS[tname]
    policy = _policy(cwhere, centry, cname, builtin)
    rules_in = centry.get("rules")
    if rules_in is not None and not isinstance(rules_in, list):
        _fail(cwhere, "rules", "must be a list of rules")
    per_fam = {fam: ([] if rules_in is not None else None) for fam in fams}
    for ri, rdata in enumerate(rules_in or [], 1):
        for fam, rule in compile_rule(rdata, fams, tname, cname, ri):
            per_fam[fam].append(rule)
    slot = compile_ignored_slot(cwhere, centry.get("ignored_slot"), per_fam.values())
    out = []
    for fam in fams:
        seen = set()
        for r in per_fam[fam] or ():
            if r.name is not None:
                if r.name in seen:
                    _fail(cwhere, "name", "rule name %r is used twice in the chain" % r.name)
                seen.add(r.name)
        out.append((fam, DesiredChain(cname, policy, per_fam[fam], builtin, slot)))
    return out
