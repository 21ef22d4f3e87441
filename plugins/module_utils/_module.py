# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible glue: the common options every module of the collection takes, the
backend the task asks for, reading the host's tables, the connection guard,
applying, and the one result every changing module ends with."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
import traceback

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.base import (
    BackendError,
    detect_variant,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.iptc import IptcBackend
from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.restore import (
    RestoreBackend,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._eval import guard as _guard
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.gather import (
    tables_to_config,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import (
    parse_save,
    render_table,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.operations import (
    TablePlan,
    transition,
)

COMMON_ARGS = dict(
    ip_version=dict(type="str", default="both", choices=["ipv4", "ipv6", "both"]),
    backend=dict(type="str", default="auto", choices=["auto", "restore", "python_iptables"]),
    wait=dict(type="int", default=60),
)


class Clock:
    """Seconds per phase, reported as `timings`."""

    def __init__(self):
        self.laps = {}
        self._last = time.perf_counter()

    def lap(self, name):
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 4)
        self._last = now


def make_backend(module):
    """The backend the `backend` option asks for, on the host's variant."""
    p = module.params

    def run(argv, data=None):
        return module.run_command(argv, data=data, binary_data=True)

    def which(name):
        # PATH first, then the sbin directories Ansible appends itself
        return module.get_bin_path(name)

    try:
        variant = detect_variant(run, which)
        if p["backend"] == "python_iptables":
            try:
                import iptc  # pylint: disable=import-outside-toplevel
            except Exception:  # ImportError, or libxtables missing
                from ansible.module_utils.basic import missing_required_lib

                module.fail_json(
                    msg=missing_required_lib(
                        "python-iptables",
                        reason="for backend: python_iptables (Debian: python3-iptables)",
                    ),
                    exception=traceback.format_exc(),
                )
            return IptcBackend(iptc, run, which, variant)
        return RestoreBackend(run, which, variant, wait=p.get("wait"))
    except BackendError as e:
        module.fail_json(msg=str(e))


def read_texts(module, backend, families):
    """{family: iptables-save text}, one save per family."""
    texts = {}
    for fam in families:
        try:
            texts[fam] = backend.read(fam)
        except BackendError as e:
            module.fail_json(msg=str(e))
        if backend.foreign_rules(fam):
            module.warn(
                "both the legacy and the nf_tables variant hold %s rules on this host; the kernel "
                "enforces both sets, and this task manages only the %s ones"
                % (fam, backend.variant)
            )
    return texts


def read_state(module, backend, families):
    """{family: {table: Table}} from one save per family."""
    texts = read_texts(module, backend, families)
    return {fam: parse_save(texts[fam]) for fam in families}


def guard_connection(module, plans):
    """Fail when the planned INPUT rules would drop the SSH connection we came on."""
    conn = _guard.parse_ssh_connection(os.environ.get("SSH_CONNECTION", ""))
    if conn is None:
        return
    for plan in plans:
        if plan.before.name != "filter" or plan.family != conn[0] or not plan.changed:
            continue
        certain, possible = _guard.check(plan.after, plan.family, conn)
        if certain:
            module.fail_json(
                msg="protect_connection: the new %s rules would drop the SSH connection from %s "
                "to port %d that this task runs over; nothing was changed. Allow it first, or set "
                "protect_connection: false." % (plan.family, conn[1], conn[3]),
                commands=commands_of(plans),
            )
        if possible:
            module.warn(
                "protect_connection: the new %s rules might drop SSH from %s (some matches could "
                "not be evaluated)" % (plan.family, conn[1])
            )


LARGE_CONFIG = 500


def invocation(params):
    """module_args echoed in the result. A large `config` is summarised: echoing
    thousands of rules back costs the controller more than the whole change."""
    config = params.get("config")
    if config:
        n = sum(len(c.get("rules") or []) for t in config for c in (t.get("chains") or []))
        if n > LARGE_CONFIG:
            params = dict(
                params, config="(%d rules in %d table entries, not echoed)" % (n, len(config))
            )
    return {"module_args": params}


def commands_of(plans):
    out = {}
    for plan in plans:
        if plan.changed:
            out.setdefault(plan.family, []).extend(
                ["*%s" % plan.before.name] + plan.lines + ["COMMIT"]
            )
    return out


def apply_plans(module, backend, plans, families):
    """Apply family by family; when a later family is rejected, put the families
    already changed back as they were, so the task changes all or nothing."""
    done = []
    for fam in families:
        mine = [p for p in plans if p.family == fam and p.changed]
        if not mine:
            continue
        try:
            backend.apply(fam, mine)
        except BackendError as e:
            msg = str(e)
            for prev_fam, prev in reversed(done):
                undo = [
                    TablePlan(prev_fam, p.after, p.before, transition(p.after, p.before), [])
                    for p in prev
                ]
                try:
                    backend.apply(prev_fam, undo)
                    msg += "; the %s change was rolled back" % prev_fam
                except BackendError as e2:
                    msg += "; rolling back the %s change FAILED: %s" % (prev_fam, e2)
                    module.fail_json(msg=msg, changed=True, commands=commands_of(plans))
            module.fail_json(msg=msg, changed=False, commands=commands_of(plans))
        done.append((fam, mine))


def plan_result(plans, families, want_diff, before_after="full", commands=None):
    """changed, commands, before, after and diff of a list of TablePlan.

    before_after: 'full' (every rule), 'summary' (chains with rule_count) or
    'auto' (full up to LARGE_RESULT kernel rules on each side)."""
    changed = any(p.changed for p in plans)
    before = {f: {} for f in families}
    after = {f: {} for f in families}
    for p in plans:
        before[p.family][p.before.name] = p.before
        after[p.family][p.after.name] = p.after
    if commands is None:
        commands = commands_of(plans)
    result = dict(changed=changed, commands=commands)
    if before_after == "auto":
        largest = max(
            [sum(len(c.rules) for c in p.before.chains.values()) for p in plans]
            + [sum(len(c.rules) for c in p.after.chains.values()) for p in plans]
            + [0]
        )
        before_after = "full" if largest <= LARGE_RESULT else "summary"
    shape = tables_to_config if before_after == "full" else summarise_tables
    result["before"] = shape(before, verify=False)
    if changed:  # as in the netcommon resource modules: `after` only when changed
        result["after"] = shape(after, verify=False)
    warnings = [w for p in plans for w in p.warnings]
    if want_diff:
        result["diff"] = diff_of(plans)
    return result, warnings


LARGE_RESULT = 1000


def summarise_tables(states, verify=False):
    """{family: {table: Table}} -> the config list shape with each chain's
    rule_count instead of its rules (for large before/after)."""
    del verify  # same signature as tables_to_config
    out = []
    for fam in sorted(states):
        for tname, table in states[fam].items():
            chains = []
            for ch in table.chains.values():
                entry = {"name": ch.name}
                if ch.policy is not None:
                    entry["policy"] = ch.policy
                entry["rule_count"] = len(ch.rules)
                chains.append(entry)
            out.append({"table": tname, "ip_version": fam, "chains": chains})
    return out


def diff_of(plans):
    """Diff-mode output: an iptables-save style before/after per changed table."""
    return [
        dict(
            before_header="%s %s" % (p.family, p.before.name),
            after_header="%s %s" % (p.family, p.after.name),
            before=render_table(p.before),
            after=render_table(p.after),
        )
        for p in plans
        if p.changed
    ]


def commit(module, backend, plans, families):
    """Guard, apply (outside check mode) and the common result of a
    single-object module: changed, commands, backend, variant and the diff."""
    if module.params.get("protect_connection"):
        guard_connection(module, plans)
    if not module.check_mode:
        apply_plans(module, backend, plans, families)
    result = dict(
        changed=any(p.changed for p in plans),
        commands=commands_of(plans),
        backend=backend.name,
        variant=backend.variant,
    )
    if module._diff:
        result["diff"] = diff_of(plans)
    return result
