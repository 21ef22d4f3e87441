# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tasks of the single-object modules (hostfw.netfilter.rule and .chain) as
functions of the host's state. Pure.

Each task is validated when it is made (RuleError, before the host is read);
its ``plan(current, keep)`` returns one TablePlan per family, with the warnings
the module shows in TablePlan.warnings, and can be called again on a fresher
state (``keep``: the tokens of rules another writer added meanwhile, kept where
they are); ``report()`` gives the module's own result keys of the last plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import (
    RULE_KEYS,
    compile_rule,
    set_names,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import Chain, Table
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import migration as MG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import sets as SETS
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.chains import (
    chain_edit,
    check_chain_name,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.ignore import Ignore
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.operations import plan_of
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.placement import (
    parse_position,
    place,
    remove,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.rebase import protect
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import (
    RuleError,
    rule_label,
)

# rule keys the rule module takes as its own options, not as rule options
OWN_KEYS = ("table", "chain", "ip_version", "counters")
RULE_OPTIONS = tuple(k for k in RULE_KEYS if k not in OWN_KEYS)


def compile_task(p, families):
    """Validate the task before the host is read:
    -> (label, form, {family: [Rule]}, position)."""
    table, chain = p["table"], p["chain"]
    data = {k: p[k] for k in RULE_OPTIONS if p.get(k) is not None}
    label = "table %s, chain %s, %s" % (table, chain, rule_label(data, None))
    try:
        form = MG.form_of(p, data)
    except RuleError as e:
        raise RuleError("%s: %s" % (label, e)) from e
    if chain is None:
        check_chain_name(table, "INPUT")  # the table only
    else:
        check_chain_name(table, chain)
    if form != MG.RULE:
        return label, form, {fam: [] for fam in families}, "append"
    try:
        position = parse_position(p["position"])
        if p["action"] is not None or p["rule_num"] is not None:
            position = MG.legacy_position(p, position)
    except RuleError as e:
        raise RuleError("%s: %s" % (label, e)) from e
    for key in ("before", "after", "rename_from"):
        value = p[key]
        if value is not None and (not value.strip() or any(c.isspace() for c in value)):
            raise RuleError("%s: key '%s': %r is not a rule name" % (label, key, value))
    groups = {fam: [] for fam in families}
    for fam, r in compile_rule(data, families, table, chain, None):
        groups[fam].append(r)
    return label, MG.RULE, groups, position


class RuleTask:
    """hostfw.netfilter.rule: one rule (a group of kernel rules per family) in
    one chain. `check_mode`: a missing chain is then a warning (an earlier task
    of the same check run may create it), else an error."""

    def __init__(self, params, families, check_mode=False):
        self.p = params
        self.families = families
        self.check_mode = check_mode
        self.label, self.form, self.groups, self.position = compile_task(params, families)
        self.placements = {}
        self.warnings = []  # from the host's ipsets, shown with every plan

    def set_names(self):
        """The ipsets the task's rules match."""
        return sorted({n for g in self.groups.values() for r in g for n in set_names(r.tokens)})

    def use_sets(self, sets):
        """Check the rules against the host's ipsets ({name: family or ANY_FAMILY};
        None: unknown): a set must exist (in check mode a missing one is a
        warning: an earlier task may create it), and a rule applies only to the
        family of the sets it matches - refused when ip_version names the other."""
        if sets is None:
            return
        p = self.p
        gone = SETS.missing(self.set_names(), sets)
        if gone and p["state"] == "present":
            msg = "%s: key 'match_set': the ipset %s does not exist on this host" % (
                self.label,
                gone[0],
            )
            if not self.check_mode:
                raise RuleError(msg + "; create it first")
            self.warnings.append(msg + SETS.MISSING_IN_CHECK)
        for fam in self.families:
            keep = []
            for r in self.groups[fam]:
                other = SETS.foreign(r, fam, sets)
                if not other:
                    keep.append(r)
                elif p["ip_version"] == fam:
                    raise RuleError(
                        "%s: key 'match_set': the ipset %s holds %s addresses, but ip_version is %s"
                        % (self.label, other[0], sets[other[0]], fam)
                    )
            self.groups[fam] = keep
        if not any(self.groups.values()) and p["state"] == "present":
            raise RuleError(
                "%s: key 'match_set': the rule matches ipsets of different families (%s)"
                % (self.label, ", ".join("%s: %s" % (n, sets.get(n)) for n in self.set_names()))
            )

    def nothing_to_do(self):
        """The warning for a task that does nothing: a chain-level task without
        effect, or a rule that applies to no family the task manages."""
        p = self.p
        if self.form != MG.RULE:
            return MG.chain_warning(self.form, p)
        if p["state"] == "present" and p["name"] is None and not any(self.groups.values()):
            return "%s applies to no family this task manages; nothing to do" % self.label
        return None

    def _missing(self, what, fam, warnings, hint=""):
        msg = "%s: %s does not exist in the %s %s table" % (self.label, what, fam, self.p["table"])
        if not self.check_mode:
            raise RuleError(msg + hint)
        warnings.append(msg + "; planned as if an earlier task had created it")

    def _check_targets(self, fam, after, group, warnings):
        for r in group:
            t = r.target
            if t is not None and t not in V.TARGETS and t not in after.chains:
                what = "key '%s': chain %s" % ("goto" if r.goto else "jump", t)
                self._missing(what, fam, warnings)

    def plan_family(self, fam, tables):
        """The TablePlan of one family; its Placement in self.placements."""
        p = self.p
        self.placements.pop(fam, None)
        cur = tables.get(p["table"]) or Table.empty(p["table"])
        warnings = list(self.warnings)
        if self.form != MG.RULE:
            if self.form == MG.FLUSH and p["chain"] is not None and p["chain"] not in cur.chains:
                self._missing("chain %s" % p["chain"], fam, warnings)
            return plan_of(fam, cur, MG.chain_plan(self.form, p, cur, fam), warnings)
        after = cur.copy()
        group = self.groups[fam]
        ch = after.chains.get(p["chain"])
        if ch is None:
            if p["state"] == "absent" or not group:
                return plan_of(fam, cur, after)
            if not p["chain_management"]:
                hint = "; create it first (hostfw.netfilter.chain) or set chain_management: true"
                self._missing("chain %s" % p["chain"], fam, warnings, hint)
            ch = after.chains[p["chain"]] = Chain(p["chain"])
        if p["state"] == "absent":
            ch.rules = remove(ch.rules, group, p["name"])
            return plan_of(fam, cur, after, warnings)
        placement = place(
            ch.rules,
            group,
            p["name"],
            self.position,
            p["before"],
            p["after"],
            p["rename_from"],
            self.label,
            hold=p["rule_num"] is not None,
        )
        self.placements[fam] = placement
        ch.rules = placement.rules
        self._check_targets(fam, after, group, warnings)
        warnings.extend(n for n in placement.notes if n not in warnings)
        return plan_of(fam, cur, after, warnings)

    def plan(self, current, keep=frozenset()):
        """One TablePlan per family. `keep` needs nothing here: the task touches
        only its own rule, so every other rule stays where it is."""
        del keep
        return [self.plan_family(fam, current.get(fam, {})) for fam in self.families]

    def report(self):
        """moved, found and the rule's kernel lines per family."""
        placed = [self.placements[f] for f in self.families if f in self.placements]
        return dict(
            moved=any(pl.moved for pl in placed),
            found=next((pl.found for pl in placed if pl.found), None),
            rule={
                fam: ["-A %s %s" % (self.p["chain"], r.text()) for r in self.groups[fam]]
                for fam in self.families
                if self.groups[fam]
            },
        )


class ChainTask:
    """hostfw.netfilter.chain: create, policy, flush, purge or delete one chain."""

    def __init__(self, params, families):
        p = self.p = params
        self.families = families
        where = "table %s, chain %s" % (p["table"], p["name"])
        check_chain_name(p["table"], p["name"])
        self.ignore = Ignore(p["ignore"])
        if p["state"] == "absent" and (p["policy"] or p["flush"] or p["purge"]):
            raise RuleError(
                "%s: key 'state': policy, flush and purge apply to a chain that stays "
                "(state: present)" % where
            )
        self.removed = {}

    def plan(self, current, keep=frozenset()):
        """One TablePlan per family; the rules it removes in self.removed."""
        p = self.p
        plans, self.removed = [], {}
        for fam in self.families:
            cur = current.get(fam, {}).get(p["table"]) or Table.empty(p["table"])
            after, gone = chain_edit(
                cur,
                p["name"],
                p["state"],
                policy=p["policy"],
                flush=p["flush"],
                purge=p["purge"],
                ignore=protect(self.ignore, keep),
                force=p["force"],
                family=fam,
            )
            plans.append(plan_of(fam, cur, after))
            if gone:
                self.removed[fam] = ["-A %s %s" % (c, r.text()) for c, r in gone]
        return plans

    def report(self):
        return dict(removed=self.removed)
