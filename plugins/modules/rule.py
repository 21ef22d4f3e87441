#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: rule
short_description: One Netfilter rule for IPv4 and IPv6, placed where it belongs
version_added: 0.1.0
description:
  - Adds, updates, moves or removes one rule, with the keys of
    M(ansible.builtin.iptables), so an existing task moves here by changing the
    module name.
  - Placement holds on every run. O(position=append) and O(position=prepend)
    say where a missing rule goes and never move one that exists. A number,
    O(before) and O(after) are constraints - a rule that breaks its constraint is
    moved (RV(moved)), one that meets it stays.
  - Identity - with O(name), the rule is the one carrying that name (stored in
    the kernel as the comment C(hostfw:NAME)), and changing its options replaces
    it in place. Without O(name), the rule is identified by its canonical match.
    A named rule that is missing adopts an unnamed rule with the same match (one
    added by hand or by M(ansible.builtin.iptables)), which keeps its place.
  - The host is read with one C(iptables-save) per family and changed with one
    C(iptables-restore --noflush) transaction per family; there is no
    C(iptables -C), and nothing else in the chain is touched.
author:
  - hostfw.netfilter developers (@hostfw)
extends_documentation_fragment:
  - hostfw.netfilter.common
  - hostfw.netfilter.common.PROTECT
  - hostfw.netfilter.common.CHANGING
options:
  state:
    description: Whether the rule is present. O(state=absent) removes the rule named O(name), or without a name every rule with exactly this match.
    type: str
    default: present
    choices: [present, absent]
  name:
    description:
      - The rule's identity, unique within its chain (letters, digits and C(_.:@+=/#-), no spaces).
      - A rule whose O(source) or O(destination) is a list expands to one kernel rule per address, named C(NAME#1), C(NAME#2)...
    type: str
  table:
    description: The table (C(filter), C(nat), C(mangle), C(raw), C(security)).
    type: str
    default: filter
  chain:
    description: The chain, built-in or user (at most 28 characters).
    type: str
    required: true
  position:
    description:
      - C(append) (add a missing rule at the end), C(prepend) (at the top), or a
        1-based number counted among all the rules in the chain, which is a
        constraint - the rule is moved there when it is elsewhere (to the end when
        the chain is shorter).
      - With O(before) or O(after), C(append)/C(prepend) apply only when the rule
        named there does not exist.
    type: raw
    default: append
  action:
    description:
      - Accepted so that an M(ansible.builtin.iptables) task moves here unchanged -
        C(insert) means O(position=prepend) (or O(rule_num)), C(append) the default.
      - Not with O(position) set to anything but C(append).
    type: str
    choices: [append, insert]
  rule_num:
    description:
      - With O(action=insert), where a missing rule is inserted, as in
        M(ansible.builtin.iptables) - an existing rule is not moved. Use
        O(position) for a number that is a constraint.
    type: raw
  before:
    description: Name of another rule in the chain that this rule must come before. Skipped with a warning while that rule does not exist.
    type: str
  after:
    description: Name of another rule in the chain that this rule must come after. Skipped with a warning while that rule does not exist.
    type: str
  rename_from:
    description: When the rule named O(name) does not exist, the rule named O(rename_from) is renamed (and updated) in place.
    type: str
  chain_management:
    description:
      - Create the user chain O(chain) when it does not exist (as in M(ansible.builtin.iptables)).
      - Otherwise a missing chain fails the task (in check mode it only warns, since an earlier task may create it).
    type: bool
    default: false
  protocol:
    description: C(tcp), C(udp), C(icmp), C(ipv6-icmp), C(sctp), C(all), ... or a number; C(icmp) maps to ICMPv6 for IPv6.
    type: raw
  source:
    description: Address or network, C(!) to negate; a list expands to one kernel rule per address. Decides the family when O(ip_version=both).
    type: raw
  destination:
    description: Address or network, C(!) to negate; a list expands like O(source).
    type: raw
  source_port:
    description: Port or range C(first:last) (needs O(protocol)).
    type: raw
  destination_port:
    description: Port or range C(first:last) (needs O(protocol)).
    type: raw
  destination_ports:
    description: Up to 15 ports or ranges for the multiport match.
    type: raw
  in_interface:
    description: Incoming interface; C(+) at the end matches a prefix.
    type: raw
  out_interface:
    description: Outgoing interface; C(+) at the end matches a prefix.
    type: raw
  ctstate:
    description: List of conntrack states (C(NEW), C(ESTABLISHED), C(RELATED), C(INVALID), C(UNTRACKED)...).
    type: raw
  icmp_type:
    description: ICMP type name or number; names map per family (C(echo-request) is 8 and 128).
    type: raw
  src_range:
    description: Source address range C(first-last) (iprange match).
    type: raw
  dst_range:
    description: Destination address range C(first-last) (iprange match).
    type: raw
  match_set:
    description: Name of an ipset to match.
    type: raw
  match_set_flags:
    description: C(src), C(dst), C(src,dst)... for O(match_set).
    type: raw
  limit:
    description: Rate such as C(5/minute) (limit match).
    type: raw
  limit_burst:
    description: Burst for O(limit).
    type: raw
  uid_owner:
    description: Owner user (OUTPUT and POSTROUTING only).
    type: raw
  gid_owner:
    description: Owner group (OUTPUT and POSTROUTING only).
    type: raw
  syn:
    description: C(match), C(negate) or C(ignore), as in M(ansible.builtin.iptables).
    type: raw
  tcp_flags:
    description: Mapping with C(flags) and C(flags_set) lists, as in M(ansible.builtin.iptables).
    type: raw
  fragment:
    description: Match second and later fragments (IPv4 only).
    type: raw
  comment:
    description: Free text kept next to the rule's name in the kernel comment.
    type: raw
  jump:
    description: Target (C(ACCEPT), C(DROP), C(REJECT), C(LOG), C(RETURN)...) or user chain.
    type: raw
  goto:
    description: User chain to continue in without returning (not with O(jump)).
    type: raw
  reject_with:
    description: REJECT type; names map per family.
    type: raw
  log_prefix:
    description: Prefix of LOG messages.
    type: raw
  log_level:
    description: Syslog level of LOG messages.
    type: raw
  match:
    description: Match modules named by a migrated M(ansible.builtin.iptables) task; they are implied by the keys, so naming them changes nothing.
    type: raw
  raw:
    description: The rule exactly as iptables-save prints it after C(-A CHAIN), for matches outside the vocabulary.
    type: raw
seealso:
  - module: ansible.builtin.iptables
  - module: hostfw.netfilter.ruleset
  - module: hostfw.netfilter.chain
"""

EXAMPLES = r"""
- name: Allow SSH from the admin network, IPv4 and IPv6 (a list expands per address)
  hostfw.netfilter.rule:
    name: ssh
    chain: INPUT
    protocol: tcp
    destination_port: 22
    source: [192.0.2.0/24, 2001:db8::/32]
    jump: ACCEPT

- name: Established traffic first - moved to the top if it is anywhere else
  hostfw.netfilter.rule:
    name: established
    chain: INPUT
    ctstate: [ESTABLISHED, RELATED]
    jump: ACCEPT
    position: 1

- name: Log what falls through, at the end
  hostfw.netfilter.rule:
    name: log-drop
    chain: INPUT
    limit: 5/minute
    jump: LOG
    log_prefix: "hostfw-drop: "

- name: A web port, kept before the log rule
  hostfw.netfilter.rule:
    name: web
    chain: INPUT
    protocol: tcp
    destination_ports: [80, 443]
    jump: ACCEPT
    before: log-drop

- name: Move the web rule to another port without changing its place
  hostfw.netfilter.rule:
    name: web
    chain: INPUT
    protocol: tcp
    destination_ports: [8080, 8443]
    jump: ACCEPT
    before: log-drop

- name: Remove it by name
  hostfw.netfilter.rule:
    name: web
    chain: INPUT
    state: absent

- name: Remove an unnamed rule by its match, IPv4 only
  hostfw.netfilter.rule:
    chain: INPUT
    protocol: tcp
    destination_port: 23
    jump: ACCEPT
    ip_version: ipv4
    state: absent
"""

RETURN = r"""
moved:
  description: Whether a rule that existed was moved to meet O(position), O(before) or O(after).
  returned: always
  type: bool
  sample: false
found:
  description:
    - How the existing rule was found - C(name), C(rename) (by O(rename_from)),
      C(adopt) (an unnamed rule with the same match), C(match) (unnamed rules), or
      null when it did not exist.
  returned: always
  type: str
  sample: name
rule:
  description: The kernel rules this task stands for, per family, as iptables-save prints them.
  returned: always
  type: dict
  sample: {"ipv4": ["-A INPUT -p tcp -m tcp --dport 22 -m comment --comment hostfw:ssh -j ACCEPT"]}
commands:
  description: The restore transaction per family (C(*table) ... C(COMMIT)); empty when nothing changes.
  returned: always
  type: dict
  sample: {"ipv4": ["*filter", "-I INPUT 1 -p tcp -m tcp --dport 22 -m comment --comment hostfw:ssh -j ACCEPT", "COMMIT"]}
backend:
  description: The backend used.
  returned: always
  type: str
  sample: restore
variant:
  description: The iptables variant of the host, C(nf_tables) or C(legacy).
  returned: always
  type: str
  sample: nf_tables
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostfw.netfilter.plugins.module_utils import _module
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import (
    RULE_KEYS,
    compile_rule,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import Chain, Table
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.chains import check_chain_name
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.operations import (
    TablePlan,
    transition,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.placement import (
    parse_position,
    place,
    remove,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import (
    RuleError,
    rule_label,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import families_of

_OWN = ("table", "chain", "ip_version", "counters")


def argument_spec():
    spec = {k: dict(type="raw") for k in RULE_KEYS if k not in _OWN}
    spec.update(
        name=dict(type="str"),
        table=dict(type="str", default="filter"),
        chain=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        position=dict(type="raw", default="append"),
        action=dict(type="str", choices=["append", "insert"]),
        rule_num=dict(type="raw"),
        before=dict(type="str"),
        after=dict(type="str"),
        rename_from=dict(type="str"),
        chain_management=dict(type="bool", default=False),
        protect_connection=dict(type="bool", default=True),
    )
    spec.update(_module.COMMON_ARGS)
    return spec


def legacy_position(p, position):
    """action/rule_num of ansible.builtin.iptables -> our position."""
    if position != "append":
        raise RuleError("key 'action': not together with position (use one of them)")
    if p["rule_num"] is not None:
        if p["action"] != "insert":
            raise RuleError("key 'rule_num': needs action: insert, as in ansible.builtin.iptables")
        number = p["rule_num"]
        if isinstance(number, str) and number.strip().isdigit():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise RuleError("key 'rule_num': must be a rule number from 1, got %r" % (number,))
        return number
    return "prepend" if p["action"] == "insert" else "append"


def compile_task(p, families):
    """Validate the task before the host is read: -> (label, {family: [Rule]}, position)."""
    table, chain = p["table"], p["chain"]
    data = {k: p[k] for k in RULE_KEYS if k not in _OWN and p.get(k) is not None}
    label = "table %s, chain %s, %s" % (table, chain, rule_label(data, None))
    check_chain_name(table, chain)
    try:
        position = parse_position(p["position"])
        if p["action"] is not None or p["rule_num"] is not None:
            position = legacy_position(p, position)
    except RuleError as e:
        raise RuleError("%s: %s" % (label, e)) from e
    for key in ("before", "after", "rename_from"):
        value = p[key]
        if value is not None and (not value.strip() or any(c.isspace() for c in value)):
            raise RuleError("%s: key '%s': %r is not a rule name" % (label, key, value))
    groups = {fam: [] for fam in families}
    for fam, r in compile_rule(data, families, table, chain, None):
        groups[fam].append(r)
    return label, groups, position


def plan_family(module, fam, current, groups, label, position):
    """The TablePlan of one family and the Placement (None for absent)."""
    p = module.params
    cur = current.get(p["table"]) or Table.empty(p["table"])
    after = cur.copy()
    group = groups[fam]
    ch = after.chains.get(p["chain"])
    if ch is None:
        if p["state"] == "absent" or not group:
            return TablePlan(fam, cur, after, [], []), None
        if not p["chain_management"]:
            msg = "%s: chain %s does not exist in the %s %s table" % (
                label,
                p["chain"],
                fam,
                p["table"],
            )
            if not module.check_mode:
                module.fail_json(
                    msg=msg
                    + "; create it first (hostfw.netfilter.chain) or set chain_management: true"
                )
            module.warn(msg + "; planned as if an earlier task had created it")
        ch = after.chains[p["chain"]] = Chain(p["chain"])
    placement = None
    if p["state"] == "absent":
        ch.rules = remove(ch.rules, group, p["name"])
    else:
        placement = place(
            ch.rules,
            group,
            p["name"],
            position,
            p["before"],
            p["after"],
            p["rename_from"],
            label,
            hold=p["rule_num"] is not None,
        )
        ch.rules = placement.rules
        for r in group:
            t = r.target
            if t is not None and t not in V.TARGETS and t not in after.chains:
                msg = "%s: key '%s': chain %s does not exist in the %s %s table" % (
                    label,
                    "goto" if r.goto else "jump",
                    t,
                    fam,
                    p["table"],
                )
                if not module.check_mode:
                    module.fail_json(msg=msg)
                module.warn(msg + "; planned as if an earlier task had created it")
    return TablePlan(fam, cur, after, transition(cur, after), []), placement


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    families = families_of(p["ip_version"])
    try:
        label, groups, position = compile_task(p, families)
    except RuleError as e:
        module.fail_json(msg=str(e))
    if p["state"] == "present" and p["name"] is None and not any(groups.values()):
        module.warn("%s applies to no family this task manages; nothing to do" % label)

    backend = _module.make_backend(module)
    info = dict(backend=backend.name, variant=backend.variant)
    moved, found, plans, notes = False, None, [], []
    with backend.lock():
        current = _module.read_state(module, backend, families)
        try:
            for fam in families:
                plan, placement = plan_family(module, fam, current[fam], groups, label, position)
                plans.append(plan)
                if placement is not None:
                    moved = moved or placement.moved
                    found = found or placement.found
                    notes.extend(n for n in placement.notes if n not in notes)
        except RuleError as e:
            module.fail_json(msg=str(e), **info)
        for note in notes:
            module.warn(note)
        result = _module.commit(module, backend, plans, families)
    result.update(
        moved=moved,
        found=found,
        rule={
            fam: ["-A %s %s" % (p["chain"], r.text()) for r in groups[fam]]
            for fam in families
            if groups[fam]
        },
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
