# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of a ``config`` list: tables, chains and their rules compiled to the
desired state. Every error is raised here, before the host is read. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import compile_rule
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules import naming as N
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import families_of

_TABLE_KEYS = frozenset(("table", "chains", "ip_version"))


_CHAIN_KEYS = frozenset(("name", "policy", "rules"))


class DesiredChain:
    __slots__ = ("name", "policy", "rules", "builtin")

    def __init__(self, name, policy, rules, builtin):
        self.name = name
        self.policy = policy
        self.rules = rules  # list of Rule, or None when the entry lists no rules
        self.builtin = builtin


def _fail(where, key, msg):
    raise RuleError("%s: key '%s': %s" % (where, key, msg))


def check_chain_name(where, name):
    """A chain name the kernel accepts (RuleError naming `where` and the key)."""
    if not isinstance(name, str) or not name:
        _fail(where, "name", "a chain needs a name")
    if len(name) > V.CHAIN_MAX:
        _fail(
            where,
            "name",
            "chain name %r is %d characters; the kernel allows at most %d"
            % (name, len(name), V.CHAIN_MAX),
        )
    if not re.match(r"^[^\s!-][^\s]*$", name):
        _fail(where, "name", "%r is not a valid chain name" % name)
    if name in V.TARGETS:
        _fail(where, "name", "%r is the name of a target" % name)


def compile_config(config, families):
    """Validate ``config`` and compile it to {(family, table): {chain: DesiredChain}}.

    Every error is raised here, before the host is read or touched."""
    if not isinstance(config, list):
        raise RuleError("config: must be a list of tables")
    desired = {}
    for ti, tentry in enumerate(config, 1):
        where = "config table #%d" % ti
        if not isinstance(tentry, dict):
            raise RuleError("%s: must be a mapping" % where)
        unknown = sorted(set(tentry) - _TABLE_KEYS)
        if unknown:
            _fail(where, unknown[0], "unknown key")
        tname = tentry.get("table", "filter")
        if tname not in V.BUILTIN_CHAINS:
            _fail(
                where,
                "table",
                "unknown table %r (known: %s)" % (tname, ", ".join(V.BUILTIN_CHAINS)),
            )
        where = "table %s" % tname
        fams = families
        if tentry.get("ip_version") is not None:
            ipv = tentry["ip_version"]
            if ipv not in N.IP_VERSIONS:
                _fail(where, "ip_version", "must be one of ipv4, ipv6, both")
            fams = [f for f in families if f in families_of(ipv)]
        chains = tentry.get("chains") or []
        if not isinstance(chains, list):
            _fail(where, "chains", "must be a list of chains")
        for fam in fams:
            if (fam, tname) in desired:
                _fail(where, "table", "listed twice for %s" % fam)
            desired[(fam, tname)] = {}
        for ci, centry in enumerate(chains, 1):
            cwhere = "%s, chain #%d" % (where, ci)
            if not isinstance(centry, dict):
                raise RuleError("%s: must be a mapping" % cwhere)
            unknown = sorted(set(centry) - _CHAIN_KEYS)
            if unknown:
                _fail(cwhere, unknown[0], "unknown key")
            cname = centry.get("name")
            check_chain_name(cwhere, cname)
            cwhere = "%s, chain %s" % (where, cname)
            builtin = cname in V.BUILTIN_CHAINS[tname]
            policy = centry.get("policy")
            if policy is not None:
                if not builtin:
                    _fail(
                        cwhere,
                        "policy",
                        "only built-in chains have a policy; %s is a user chain" % cname,
                    )
                policy = str(policy).upper()
                if policy not in V.POLICIES:
                    _fail(cwhere, "policy", "must be ACCEPT or DROP, got %r" % centry["policy"])
            rules_in = centry.get("rules")
            if rules_in is not None and not isinstance(rules_in, list):
                _fail(cwhere, "rules", "must be a list of rules")
            per_fam = {fam: ([] if rules_in is not None else None) for fam in fams}
            for ri, rdata in enumerate(rules_in or [], 1):
                for fam, rule in compile_rule(rdata, fams, tname, cname, ri):
                    per_fam[fam].append(rule)
            for fam in fams:
                chains_d = desired[(fam, tname)]
                if cname in chains_d:
                    _fail(cwhere, "name", "chain listed twice")
                rules = per_fam[fam]
                if rules:
                    seen = set()
                    for r in rules:
                        if r.name is not None:
                            if r.name in seen:
                                _fail(
                                    cwhere,
                                    "name",
                                    "rule name %r is used twice in the chain" % r.name,
                                )
                            seen.add(r.name)
                chains_d[cname] = DesiredChain(cname, policy, rules, builtin)
    return desired
