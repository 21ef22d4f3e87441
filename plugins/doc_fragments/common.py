# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The options every module that reads the host takes (the action group
    # hostfw.netfilter.all lets module_defaults set them once).
    DOCUMENTATION = r"""
options:
  ip_version:
    description: The families this task manages.
    type: str
    default: both
    choices: [ipv4, ipv6, both]
  backend:
    description:
      - C(restore) uses C(iptables-save) and C(iptables-restore -w --noflush) of the
        variant the host uses (nf_tables or legacy).
      - C(python_iptables) writes through python-iptables (libiptc) with one commit
        per table, and reads back to verify. It speaks only the legacy kernel API
        and refuses to run on an nf_tables host.
      - C(auto) detects the variant and uses C(restore).
    type: str
    default: auto
    choices: [auto, restore, python_iptables]
  wait:
    description: Seconds to wait for the xtables lock.
    type: int
    default: 60
requirements:
  - iptables and ip6tables (nf_tables or legacy variant) on the managed host
  - python-iptables on the managed host for O(backend=python_iptables)
notes:
  - Module code runs with Python 3.9 or later on the managed host.
"""

    # protect_connection, for the modules that change rules
    PROTECT = r"""
options:
  protect_connection:
    description:
      - Before applying, the packet evaluator (as in M(hostfw.netfilter.explain))
        judges the new filter rules against the SSH session this task runs over
        (C(SSH_CONNECTION) on the host) - its packets through INPUT
        (ESTABLISHED), its replies through OUTPUT, and a new connection from the
        same client to the same port. A change that would certainly drop or
        reject one of them fails with nothing changed, naming the rule or policy;
        one that might (matches that cannot be decided) warns.
    type: bool
    default: true
"""

    # attributes of the modules that change rules
    # rollback_timeout, for the modules that change rules
    ROLLBACK = r"""
options:
  rollback_timeout:
    description:
      - Seconds after which the change is undone unless M(hostfw.netfilter.confirm)
        confirms it; C(0) (the default) is off. Set it once for a play with
        C(module_defaults) for C(group/hostfw.netfilter.all).
      - Before applying, the undo of both families is recorded in the state
        directory (C(/var/lib/hostfw-netfilter/rollback), 0700, or under
        C(HOSTFW_NETFILTER_STATE_DIR)), and a timer is armed that outlives the
        task, the module process and the SSH connection (a detached process in a
        session of its own). When it fires, the chains the change touched go back
        to what they were, newest change first; rules other programs added to
        other chains meanwhile stay. The undo is tested before it is applied, so a
        refused one applies nothing and is kept for C(confirm) or a retry. Each
        revert is logged to syslog (tag C(hostfw-netfilter)).
      - A task that changes nothing arms nothing. The result then holds no
        RV(rollback_id).
    type: int
    default: 0
"""

    CHANGING = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Check mode computes and reports the whole transaction.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows an iptables-save style before/after per family and table.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: linux
"""
