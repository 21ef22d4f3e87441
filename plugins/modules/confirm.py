#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: confirm
short_description: Keep a change made with rollback_timeout, cancelling its revert
version_added: 0.1.0
description:
  - Cancels the revert that O(hostfw.netfilter.rule#module:rollback_timeout) (of
    M(hostfw.netfilter.rule), M(hostfw.netfilter.chain) or
    M(hostfw.netfilter.ruleset)) armed, for one change (O(id)) or for every
    pending change of the host.
  - Run it over a new SSH connection - put C(ansible.builtin.meta
    reset_connection) before it - so that reaching the host proves a new
    connection can still be made. A change that blocks new connections is then
    never confirmed and goes back by itself, even if the old connection still
    works.
  - Also clears a revert the kernel refused (kept as failed, for a manual
    decision); the rules then stay as they are.
author:
  - hostfw.netfilter developers (@hostfw)
options:
  id:
    description: The RV(hostfw.netfilter.rule#module:rollback_id) to confirm; every pending change of the host when not given.
    type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Check mode reports what would be confirmed and cancels nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: linux
seealso:
  - module: hostfw.netfilter.rule
  - module: hostfw.netfilter.ruleset
"""

EXAMPLES = r"""
- name: Change the policy, undone after two minutes unless confirmed
  hostfw.netfilter.ruleset:
    state: merged
    config:
      - table: filter
        chains:
          - name: INPUT
            policy: DROP
            rules:
              - {name: ssh, protocol: tcp, destination_port: 22, jump: ACCEPT}
    rollback_timeout: 120
  register: change

- name: Reconnect, so that the confirm proves a new SSH connection works
  ansible.builtin.meta: reset_connection

- name: Keep the change
  hostfw.netfilter.confirm:
    id: "{{ change.rollback_id }}"
  when: change.rollback_id is defined
"""

RETURN = r"""
confirmed:
  description: The ids whose revert was cancelled.
  returned: always
  type: list
  elements: str
  sample: ["3f9c2a7d41b0"]
pending:
  description: The ids still pending on the host afterwards (with their state, C(pending) or C(failed)).
  returned: always
  type: list
  elements: dict
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostfw.netfilter.plugins.module_utils._host import rollback


def main():
    module = AnsibleModule(argument_spec=dict(id=dict(type="str")), supports_check_mode=True)
    rid = module.params["id"]
    before = rollback.pending()
    known = [i for i, _state in before]
    if rid is not None and rid not in known:
        module.fail_json(
            msg="id: no pending rollback %s on this host (it was confirmed, or its revert has "
            "already run; pending: %s)" % (rid, ", ".join(known) or "none"),
            pending=[dict(id=i, state=s) for i, s in before],
        )
    if module.check_mode:
        would = [rid] if rid is not None else known
        module.exit_json(changed=bool(would), confirmed=would, pending=[])
    done, _unknown = rollback.confirm([rid] if rid is not None else None)
    after = [dict(id=i, state=s) for i, s in rollback.pending()]
    module.exit_json(changed=bool(done), confirmed=done, pending=after)


if __name__ == "__main__":
    main()
