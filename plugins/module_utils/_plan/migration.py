# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parameters of hostfw.netfilter.rule that exist so that an
ansible.builtin.iptables task moves there by changing the module name: action and
rule_num, and the chain-level forms of the task (policy, flush, and
chain_management without a rule), each with ansible.builtin.iptables' meaning,
planned through the chain logic. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.chains import chain_edit
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.values import DIGITS_RE

# the task's forms
RULE = "rule"  # one rule (the usual form)
POLICY = "policy"  # set a built-in chain's policy
FLUSH = "flush"  # flush the chain, or every chain of the table
CHAIN = "chain"  # chain_management without a rule: create / delete the chain only
NONE = "none"  # no rule and no chain_management: nothing to do

# ansible.builtin.iptables parameters for NAT and packet mangling: outside this
# collection, refused by name
FOREIGN = ("to_ports", "to_source", "to_destination", "set_dscp_mark", "set_dscp_mark_class")
FOREIGN_HINT = (
    "is for NAT or packet mangling, which hostfw.netfilter does not manage; keep "
    "ansible.builtin.iptables (or community.general) for this task"
)


def legacy_position(p, position):
    """action/rule_num of ansible.builtin.iptables -> our position."""
    if position != "append":
        raise RuleError("key 'action': not together with position (use one of them)")
    if p["rule_num"] is not None:
        if p["action"] != "insert":
            raise RuleError("key 'rule_num': needs action: insert, as in ansible.builtin.iptables")
        number = p["rule_num"]
        if isinstance(number, str) and DIGITS_RE.fullmatch(number.strip(" \t")):
            # ASCII digits only: '²'.isdigit() is true but int('²') fails
            number = int(number.strip(" \t"))
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise RuleError("key 'rule_num': must be a rule number from 1, got %r" % (number,))
        return number
    return "prepend" if p["action"] == "insert" else "append"


def form_of(p, data):
    """Which form the task has (RULE, POLICY, FLUSH, CHAIN or NONE), from the
    module parameters `p` and the rule keys `data` it was given. Refuses the
    combinations ansible.builtin.iptables would silently ignore part of."""
    for key in FOREIGN:
        if p.get(key) is not None:
            raise RuleError("key '%s': %s" % (key, FOREIGN_HINT))
    if p.get("gateway") is not None or str(data.get("jump", "")).upper() == "TEE":
        key = "gateway" if p.get("gateway") is not None else "jump"
        raise RuleError(
            "key '%s': the TEE target copies packets to another host, which hostfw.netfilter "
            "does not manage; keep ansible.builtin.iptables for this task" % key
        )
    rule_keys = sorted(k for k in data if k != "syn" or data[k] != "ignore")
    rule_keys = [k for k in rule_keys if k != "match" or data[k]]
    if p.get("name") is not None:
        rule_keys.append("name")
    chosen = [k for k in (POLICY, FLUSH) if p.get(k)]
    if len(chosen) > 1:
        raise RuleError("key 'flush': not together with policy (one task does one of them)")
    if chosen:
        key = chosen[0]
        if rule_keys:
            raise RuleError(
                "key '%s': %s the chain only; ansible.builtin.iptables ignores the rule keys "
                "given with it (here '%s'), so give the rule a task of its own"
                % (key, "sets the policy of" if key == POLICY else "flushes", rule_keys[0])
            )
        if p["state"] != "present":
            raise RuleError("key '%s': needs state: present" % key)
        if key == POLICY and p["chain"] not in V.BUILTIN_CHAINS.get(p["table"], ()):
            raise RuleError(
                "key 'policy': only built-in chains have a policy, not %r" % (p["chain"],)
            )
        return key
    if p["chain"] is None:
        raise RuleError("key 'chain': required (unless flush: true flushes the whole table)")
    if rule_keys:
        return RULE
    return CHAIN if p["chain_management"] else NONE


def chain_plan(form, p, table, family):
    """The table after a chain-level task, or a RuleError (naming the key)."""
    name = p["chain"]
    where = "table %s (%s), chain %s" % (table.name, family, name)
    if form == POLICY:
        return chain_edit(table, name, "present", policy=p["policy"], family=family)[0]
    if form == FLUSH:
        names = [name] if name is not None else list(table.chains)
        after = table
        for n in names:
            if n in after.chains:
                after = chain_edit(after, n, "present", flush=True, family=family)[0]
        return after
    builtin = name in V.BUILTIN_CHAINS.get(table.name, ())
    if form == NONE or builtin:
        return table.copy()
    if p["state"] == "present":
        return chain_edit(table, name, "present", family=family)[0]
    ch = table.chains.get(name)
    if ch is not None and ch.rules:
        raise RuleError(
            "%s: key 'chain_management': the chain still holds %d rule%s, and "
            "ansible.builtin.iptables deletes only an empty chain. Remove the rules first, or "
            "use hostfw.netfilter.chain (state: absent)"
            % (where, len(ch.rules), "" if len(ch.rules) == 1 else "s")
        )
    return chain_edit(table, name, "absent", family=family)[0]


def chain_warning(form, p):
    """What the user should know about a chain-level task that does nothing."""
    if form == NONE:
        return (
            "table %s, chain %s: the task gives no rule keys and chain_management is false, so "
            "it does nothing (ansible.builtin.iptables reports a change here but makes none); "
            "set chain_management: true to %s the chain"
            % (p["table"], p["chain"], "create" if p["state"] == "present" else "delete")
        )
    if form == CHAIN and p["chain"] in V.BUILTIN_CHAINS.get(p["table"], ()):
        return "table %s, chain %s: a built-in chain always exists; nothing to do" % (
            p["table"],
            p["chain"],
        )
    return None
