#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: chain
short_description: One Netfilter chain for IPv4 and IPv6 - create, delete, policy, flush, purge
version_added: 0.1.0
description:
  - Creates or deletes a user chain, sets the policy of a built-in chain, and
    empties a chain - all of it (O(flush)) or only the rules no task of ours
    named (O(purge)), sparing what O(ignore) matches.
  - Deleting a chain that other rules still jump to fails with a message naming
    those rules, unless O(force=true), which removes them in the same transaction.
  - One C(iptables-save) and at most one C(iptables-restore --noflush)
    transaction per family; nothing outside the chain (and, with O(force), the
    jumps to it) is touched.
author:
  - hostfw.netfilter developers (@hostfw)
extends_documentation_fragment:
  - hostfw.netfilter.common
  - hostfw.netfilter.common.PROTECT
  - hostfw.netfilter.common.CHANGING
  - hostfw.netfilter.common.ROLLBACK
options:
  name:
    description: The chain (at most 28 characters). Built-in chains (C(INPUT), C(FORWARD)...) can take a policy, a flush or a purge, but cannot be deleted.
    type: str
    required: true
  table:
    description: The table (C(filter), C(nat), C(mangle), C(raw), C(security)).
    type: str
    default: filter
  state:
    description: C(present) creates a missing user chain; C(absent) deletes it with its rules (absent when already absent is C(ok)).
    type: str
    default: present
    choices: [present, absent]
  policy:
    description: Policy of a built-in chain. A user chain has none; giving one fails.
    type: str
    choices: [ACCEPT, DROP]
  flush:
    description: Remove every rule of the chain, except those O(ignore) matches.
    type: bool
    default: false
  purge:
    description:
      - Remove every rule of the chain that does not carry a name of ours
        (the kernel comment C(hostfw:NAME)) - rules added by hand, by other
        tools, or by our modules without a O(hostfw.netfilter.rule#module:name) -
        except those O(ignore) matches.
    type: bool
    default: false
  ignore:
    description:
      - Regular expressions (Python C(re.search), not anchored), as in
        M(hostfw.netfilter.ruleset). When one matches the chain name, nothing in
        the chain is removed.
      - Otherwise a rule is kept by O(flush) and O(purge) when a regex matches one
        of these parts of it, each searched on its own - its comment (the whole
        kernel comment, a C(hostfw:NAME) included), its jump or goto target, the
        interface name of each C(-i) and C(-o), and the set name of each
        C(--match-set) (fail2ban's ipset bans, C(-m set --match-set f2b-sshd src
        -j REJECT)). Nothing else of a rule is searched.
    type: list
    elements: str
    default: []
  force:
    description: With O(state=absent), also remove the rules in other chains that jump or go to this chain, in the same transaction.
    type: bool
    default: false
seealso:
  - module: hostfw.netfilter.rule
  - module: hostfw.netfilter.ruleset
"""

EXAMPLES = r"""
- name: A chain for the web services
  hostfw.netfilter.chain:
    name: HOSTFW-WEB

- name: Default-deny forwarding
  hostfw.netfilter.chain:
    name: FORWARD
    policy: DROP

- name: Keep only our named rules in INPUT, and fail2ban's jumps
  hostfw.netfilter.chain:
    name: INPUT
    purge: true
    ignore: ['^f2b-']

- name: Empty the web chain
  hostfw.netfilter.chain:
    name: HOSTFW-WEB
    flush: true

- name: Delete it, with any rule that still jumps to it
  hostfw.netfilter.chain:
    name: HOSTFW-WEB
    state: absent
    force: true
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
removed:
  description: The rules removed (by O(flush), O(purge), deletion, or O(force)), per family, as iptables-save prints them.
  returned: always
  type: dict
  sample: {"ipv4": ["-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT"]}
commands:
  description: The restore transaction per family (C(*table) ... C(COMMIT)); empty when nothing changes.
  returned: always
  type: dict
  sample: {"ipv4": ["*filter", "-N HOSTFW-WEB", "COMMIT"]}
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
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.tasks import ChainTask
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import families_of


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        table=dict(type="str", default="filter"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        policy=dict(type="str", choices=["ACCEPT", "DROP"]),
        flush=dict(type="bool", default=False),
        purge=dict(type="bool", default=False),
        ignore=dict(type="list", elements="str", default=[]),
        force=dict(type="bool", default=False),
        protect_connection=dict(type="bool", default=True),
    )
    argument_spec.update(_module.COMMON_ARGS)
    argument_spec.update(_module.CHANGING_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    families = families_of(module.params["ip_version"])
    try:
        task = ChainTask(module.params, families)
    except RuleError as e:
        module.fail_json(msg=str(e))
    backend = _module.make_backend(module)
    result = _module.finish(module, backend, task.plan, families)
    module.exit_json(**dict(result, **task.report()))


if __name__ == "__main__":
    main()
