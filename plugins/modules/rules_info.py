#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: rules_info
short_description: The host's Netfilter rules in the ruleset config format
version_added: 0.1.0
description:
  - Reads the host's rules with one C(iptables-save) per family and returns
    them under RV(config) in the O(hostfw.netfilter.ruleset#module:config)
    format - the same data as O(hostfw.netfilter.ruleset#module:state=gathered),
    so feeding it to M(hostfw.netfilter.ruleset) with C(state=overridden) changes
    nothing.
  - Filters by O(tables), O(chains) and O(ip_version); optionally adds packet
    and byte counters to every rule.
  - Never changes anything on the host.
author:
  - hostfw.netfilter developers (@hostfw)
extends_documentation_fragment:
  - hostfw.netfilter.common
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: Nothing changes, so there is no diff.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: linux
options:
  tables:
    description: Only these tables (default - every table the host shows).
    type: list
    elements: str
  chains:
    description: Only these chains (by exact name), in every selected table.
    type: list
    elements: str
  counters:
    description:
      - Add C(counters) (C(packets) and C(bytes)) to every rule, read with C(iptables-save -c).
      - IPv4 and IPv6 counters differ, so with counters each table is listed once
        per family (with C(ip_version)). M(hostfw.netfilter.ruleset) ignores the
        C(counters) key, so the data can still be fed back.
    type: bool
    default: false
seealso:
  - module: hostfw.netfilter.ruleset
"""

EXAMPLES = r"""
- name: Read every table
  hostfw.netfilter.rules_info:
  register: fw

- name: The filter INPUT chain of IPv6 only, with counters
  hostfw.netfilter.rules_info:
    tables: [filter]
    chains: [INPUT]
    ip_version: ipv6
    counters: true
  register: input6

- name: Ports accepted in INPUT
  ansible.builtin.debug:
    msg: "{{ fw.config | hostfw.netfilter.query(\"[?table=='filter'][].chains[?name=='INPUT'][].rules[].destination_port\") }}"
"""

RETURN = r"""
config:
  description: The host's tables in the O(hostfw.netfilter.ruleset#module:config) format.
  returned: always
  type: list
  elements: dict
  sample:
    - table: filter
      chains:
        - name: INPUT
          policy: DROP
          rules:
            - {name: ssh, protocol: tcp, destination_port: 22, jump: ACCEPT}
backend:
  description: The backend used to read.
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
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.counters import (
    with_counters,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.gather import (
    tables_to_config,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import families_of


def main():
    argument_spec = dict(
        tables=dict(type="list", elements="str"),
        chains=dict(type="list", elements="str"),
        counters=dict(type="bool", default=False),
    )
    argument_spec.update(_module.COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    families = families_of(p["ip_version"])
    backend = _module.make_backend(module)
    with backend.lock():
        states = _module.read_state(module, backend, families, counters=p["counters"])
    tables = set(p["tables"]) if p["tables"] else None
    chains = set(p["chains"]) if p["chains"] else None
    read = with_counters if p["counters"] else tables_to_config
    config = read(states, tables, chains)
    module.exit_json(changed=False, config=config, backend=backend.name, variant=backend.variant)


if __name__ == "__main__":
    main()
