# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module side of rollback_timeout: arm the rollback before a change is
applied (the record and its timer are _host/rollback.py, the undo itself
_plan/revert.py), and its keys in the result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.base import (
    BackendError,
    tool,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._host import rollback as _rollback
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.revert import revert_text


def undo_texts(plans, families):
    return {fam: revert_text(plans, fam) for fam in families}


def restore_tools(backend, families):
    variant = "legacy" if backend.name == "python_iptables" else backend.variant
    return {
        fam: (
            tool(backend.which, fam, variant, "restore"),
            tool(backend.which, fam, variant, "save"),
        )
        for fam in families
    }


def arm_rollback(module, backend, plans, families):
    """With rollback_timeout, record the undo of `plans` and arm its timer
    before anything is applied (nothing when nothing changes). The record is
    kept as module.hostfw_rollback for the result (rollback_id, _deadline)."""
    timeout = module.params.get("rollback_timeout") or 0
    module.hostfw_rollback = None
    if timeout <= 0 or not any(p.changed for p in plans):
        return None
    try:
        armed = _rollback.record(
            undo_texts(plans, families), restore_tools(backend, families), timeout
        )
    except (OSError, BackendError) as e:
        module.fail_json(
            msg="rollback_timeout: cannot arm the rollback, nothing was changed: %s" % e
        )
    module.hostfw_rollback = armed
    return armed


def rollback_result(module):
    """rollback_id and rollback_deadline of an armed change, else {}."""
    armed = getattr(module, "hostfw_rollback", None)
    if not armed:
        return {}
    return dict(rollback_id=armed["id"], rollback_deadline=armed["deadline_utc"])
