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
  - Moving from M(ansible.builtin.iptables) - its parameters keep their meaning
    here (O(policy), O(flush), O(chain_management) without a rule, O(action),
    O(rule_num), O(ctstate) as one string, LOG implied by O(log_prefix), service and
    user names resolved on the host). Its default O(ip_version) is C(ipv4), the
    collection's is C(both); C(module_defaults) for C(group/hostfw.netfilter.all)
    with O(ip_version=ipv4) in the play reproduces it exactly. See
    C(docs/migration.md) in the collection.
  - The host is read with one C(iptables-save) per family and changed with one
    C(iptables-restore --noflush) transaction per family; there is no
    C(iptables -C), and nothing else in the chain is touched.
author:
  - hostfw.netfilter developers (@hostfw)
extends_documentation_fragment:
  - hostfw.netfilter.common
  - hostfw.netfilter.common.PROTECT
  - hostfw.netfilter.common.CHANGING
  - hostfw.netfilter.common.ROLLBACK
  - hostfw.netfilter.rule_keys
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
    description:
      - The chain, built-in or user (at most 28 characters).
      - Required, except with O(flush=true), which then flushes every chain of O(table).
    type: str
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
  policy:
    description:
      - Set the policy of the built-in chain O(chain) (C(ACCEPT), C(DROP)...), as in
        M(ansible.builtin.iptables); the task then manages no rule, and rule keys given
        with it are refused (ansible.builtin.iptables silently ignores them).
      - M(hostfw.netfilter.chain) does the same with O(hostfw.netfilter.chain#module:policy).
    type: str
    choices: [ACCEPT, DROP, QUEUE, RETURN]
  flush:
    description:
      - Remove every rule of O(chain), or of every chain of O(table) when O(chain) is
        not given, as in M(ansible.builtin.iptables); not with rule keys or O(policy).
      - Unlike ansible.builtin.iptables, it reports a change only when there were rules
        to remove.
    type: bool
    default: false
  numeric:
    description: Accepted from M(ansible.builtin.iptables), where it only changes how rules are listed; ignored.
    type: bool
    default: false
  to_ports:
    description:
      - Refused - NAT and packet mangling (also O(to_source), O(to_destination),
        O(set_dscp_mark), O(set_dscp_mark_class), O(gateway)) are outside this
        collection; keep M(ansible.builtin.iptables) for those tasks.
    type: raw
  to_source:
    description: Refused, see O(to_ports).
    type: raw
  to_destination:
    description: Refused, see O(to_ports).
    type: raw
  set_dscp_mark:
    description: Refused, see O(to_ports).
    type: raw
  set_dscp_mark_class:
    description: Refused, see O(to_ports).
    type: raw
  gateway:
    description: Refused, see O(to_ports).
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

- name: A chain of its own, as ansible.builtin.iptables creates it (no rule is added)
  hostfw.netfilter.rule:
    chain: ALLOWLIST
    chain_management: true

- name: The policy of a built-in chain, as in ansible.builtin.iptables
  hostfw.netfilter.rule:
    chain: FORWARD
    policy: DROP
"""

RETURN = r"""
rollback_id:
  description: The id of the armed rollback (pass it to M(hostfw.netfilter.confirm)); only with O(rollback_timeout) and a change.
  returned: when a rollback was armed
  type: str
  sample: 3f9c2a7d41b0
rollback_deadline:
  description: When the armed rollback undoes the change unless confirmed (UTC, ISO 8601).
  returned: when a rollback was armed
  type: str
  sample: "2026-12-08T01:15:00Z"
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
from ansible_collections.hostfw.netfilter.plugins.module_utils._host import ipsets, names
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.migration import FOREIGN
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.tasks import (
    RULE_OPTIONS,
    RuleTask,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import families_of


def argument_spec():
    spec = {k: dict(type="raw") for k in RULE_OPTIONS}
    spec.update(
        name=dict(type="str"),
        table=dict(type="str", default="filter"),
        chain=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        position=dict(type="raw", default="append"),
        action=dict(type="str", choices=["append", "insert"]),
        rule_num=dict(type="raw"),
        before=dict(type="str"),
        after=dict(type="str"),
        rename_from=dict(type="str"),
        chain_management=dict(type="bool", default=False),
        policy=dict(type="str", choices=["ACCEPT", "DROP", "QUEUE", "RETURN"]),
        flush=dict(type="bool", default=False),
        numeric=dict(type="bool", default=False),
        protect_connection=dict(type="bool", default=True),
    )
    spec.update((k, dict(type="raw")) for k in FOREIGN + ("gateway",))
    spec.update(_module.COMMON_ARGS)
    spec.update(_module.CHANGING_ARGS)
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    families = families_of(module.params["ip_version"])
    try:
        task = RuleTask(names.resolve(module.params), families, module.check_mode)
        if task.set_names():
            task.use_sets(ipsets.read(module))
    except RuleError as e:
        module.fail_json(msg=str(e))
    if task.nothing_to_do():
        module.warn(task.nothing_to_do())
    backend = _module.make_backend(module)
    result = _module.finish(module, backend, task.plan, families)
    module.exit_json(**dict(result, **task.report()))


if __name__ == "__main__":
    main()
