# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module side of protect_connection: the SSH session from SSH_CONNECTION,
judged by _eval/guard.py over the plans, as a refusal or warnings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.hostfw.netfilter.plugins.module_utils._eval import guard as _guard


def connection_check(plans):
    """(refusal or None, [warnings]) of the connection guard over the plans:
    would the planned INPUT rules drop the SSH connection we came on?"""
    conn = _guard.parse_ssh_connection(os.environ.get("SSH_CONNECTION", ""))
    warnings = []
    if conn is None:
        return None, warnings
    for plan in plans:
        if plan.before.name != "filter" or plan.family != conn[0] or not plan.changed:
            continue
        certain, possible = _guard.check(plan.after, plan.family, conn)
        if certain:
            return (
                "protect_connection: the new %s rules would cut the SSH connection from %s "
                "to port %d that this task runs over (%s); nothing was changed. Allow it first, "
                "or set protect_connection: false."
                % (plan.family, conn[1], conn[3], _guard.refusal(plan.after, plan.family, conn))
            ), warnings
        if possible:
            warnings.append(
                "protect_connection: the new %s rules might drop SSH from %s (some matches could "
                "not be evaluated)" % (plan.family, conn[1])
            )
    return None, warnings


def guard_connection(module, plans, commands_of):
    """Fail when the planned rules would cut the SSH connection we came on
    (`commands_of(plans)`: the transaction, for the failure's result)."""
    refusal, warnings = connection_check(plans)
    if refusal:
        module.fail_json(msg=refusal, commands=commands_of(plans))
    for w in warnings:
        module.warn(w)
