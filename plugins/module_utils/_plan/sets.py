# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules that match ipsets, against the host's sets ({name: family}, as
_host/ipsets reads them), before the host is touched: the kernel refuses a rule
whose set does not exist or holds addresses of the other family, and that
refusal would come in the middle of an apply, after the other family's
transaction. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import set_names
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import ANY_FAMILY

MISSING_IN_CHECK = "; planned as if an earlier task had created it"


def missing(names, sets):
    """The names of `names` that are not sets of the host."""
    return [n for n in names if n not in sets]


def foreign(rule, family, sets):
    """The sets `rule` matches that hold addresses of another family than `family`."""
    return [n for n in set_names(rule.tokens) if sets.get(n, family) not in (family, ANY_FAMILY)]


def desired_names(desired):
    """Every ipset the rules of a compiled config match."""
    return sorted(
        {
            n
            for chains in desired.values()
            for chain in chains.values()
            for r in chain.rules or ()
            for n in set_names(r.tokens)
        }
    )


def check_desired(desired, sets, check_mode):
    """A compiled config ({(family, table): {chain: DesiredChain}}) against the
    host's sets: RuleError for a rule whose set holds the other family's
    addresses, and for a missing set (a warning in check mode). -> warnings."""
    warnings = []
    for (fam, table), chains in sorted(desired.items()):
        for chain in chains.values():
            for i, r in enumerate(chain.rules or (), 1):
                where = "table %s, chain %s, rule %s (%s)" % (
                    table,
                    chain.name,
                    "'%s'" % r.name if r.name else "#%d" % i,
                    fam,
                )
                gone = missing(set_names(r.tokens), sets)
                if gone:
                    msg = "%s: key 'match_set': the ipset %s does not exist on this host" % (
                        where,
                        gone[0],
                    )
                    if not check_mode:
                        raise RuleError(msg + "; create it first")
                    if msg + MISSING_IN_CHECK not in warnings:
                        warnings.append(msg + MISSING_IN_CHECK)
                other = foreign(r, fam, sets)
                if other:
                    raise RuleError(
                        "%s: key 'match_set': the ipset %s holds %s addresses; set ip_version: "
                        "%s on the rule" % (where, other[0], sets[other[0]], sets[other[0]])
                    )
    return warnings
