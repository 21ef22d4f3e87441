# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible glue: the common options every module of the collection takes, the
backend the task asks for, reading the host's tables, the connection guard,
applying, and the one result every changing module ends with."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import traceback

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.base import (
    BackendError,
    detect_variant,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.iptc import (
    IptcBackend,
    import_iptc,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.restore import (
    RestoreBackend,
    transaction,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._host import rollback as _rollback
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.gather import (
    tables_to_config,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import (
    parse_save,
    render_table,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._module.guard import (
    connection_check,
    guard_connection,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._module.rollback import (
    arm_rollback,
    restore_tools,
    rollback_result,
    undo_texts,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import rebase as RB
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.operations import plan_of
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

COMMON_ARGS = dict(
    ip_version=dict(type="str", default="both", choices=["ipv4", "ipv6", "both"]),
    backend=dict(type="str", default="auto", choices=["auto", "restore", "python_iptables"]),
    wait=dict(type="int", default=60),
)
# the modules that change rules
CHANGING_ARGS = dict(rollback_timeout=dict(type="int", default=0))


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
                iptc = import_iptc()
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


def read_texts(module, backend, families, counters=False):
    """{family: iptables-save text}, one save per family; warns when the other
    variant holds rules too (the kernel enforces both)."""
    texts = {}
    for fam in families:
        try:
            texts[fam] = backend.read(fam, counters=counters) if counters else backend.read(fam)
        except BackendError as e:
            module.fail_json(msg=str(e))
        if backend.foreign_rules(fam):
            module.warn(
                "both the legacy and the nf_tables variant hold %s rules on this host; the kernel "
                "enforces both sets, and this task manages only the %s ones"
                % (fam, backend.variant)
            )
    return texts


def parse_texts(module, texts):
    """{family: {table: Table}} from {family: save text}."""
    out = {}
    for fam, text in texts.items():
        try:
            out[fam] = parse_save(text)
        except ValueError as e:
            module.fail_json(msg="cannot parse the %s rules: %s" % (fam, e))
    return out


def read_state(module, backend, families, counters=False):
    """{family: {table: Table}} from one save per family (the shared read path)."""
    return parse_texts(module, read_texts(module, backend, families, counters))


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
    """{family: restore lines}, each table framed by *table ... COMMIT."""
    out = {}
    for plan in plans:
        if plan.changed:
            out.setdefault(plan.family, []).extend(transaction([plan])[0])
    return out


RETRIES = 3


def call_planner(module, planner, current, keep, **info):
    try:
        return planner(current, keep)
    except RuleError as e:
        module.fail_json(msg=str(e), **info)


def _refuse(plans):
    """The guard inside the apply loop: a refusal becomes a BackendError, so the
    families already changed are put back."""
    refusal, _warnings = connection_check(plans)
    if refusal:
        raise BackendError(refusal)


def _read_back(backend, fam):
    """The family's tables as they are now (one save)."""
    try:
        return parse_save(backend.read(fam))
    except ValueError as e:
        raise BackendError("cannot parse the %s rules read back: %s" % (fam, e)) from e


def apply_family(backend, planner, plans, current, applied, check=None):
    """Apply the plans of one family, read the touched chains back (one save)
    and judge them: when another writer changed them (or a rejected transaction
    met chains that differ from those planned from), plan again from the fresh
    state, with the rules that writer added kept where it put them, and apply
    once more; at most RETRIES times. Appends what was applied to `applied`;
    returns the last plans. Raises BackendError."""
    fam = plans[0].family if plans else None
    keep = frozenset()
    for attempt in range(RETRIES + 1):
        mine = [p for p in plans if p.changed]
        if not mine:
            return plans
        try:
            backend.apply(fam, mine)
            error = None
        except BackendError as e:
            error = e
        fresh = _read_back(backend, fam)
        verdicts = [RB.judge(p, RB.table_of(fresh, p.before.name)) for p in mine]
        done = mine if error is None else []
        applied.extend(done)
        if all(v == RB.SETTLED for v in verdicts):  # (rejected: someone else did it)
            return plans
        if error is not None and all(v in (RB.SETTLED, RB.UNCHANGED) for v in verdicts):
            raise error
        lost = [m for m in (RB.lost_message(p, fresh) for p in mine) if m] if error is None else []
        if lost:
            raise BackendError(lost[0])
        if attempt == RETRIES:
            break
        for p in mine:
            keep |= RB.newcomers(p, RB.table_of(fresh, p.before.name))
        plans = RB.replan(planner, current, fresh, mine, done, keep)
        if check is not None:
            check(plans)
    raise BackendError(
        "another program kept changing the %s chains this task edits (%s) while it applied its "
        "plan; gave up after %d retries. Run the task again."
        % (fam, ", ".join(sorted({c for p in plans for c in p.touched()})), RETRIES)
    )


def _undo(module, backend, msg, reports, plans):
    """Put back the families already changed, newest first, then fail."""
    families = []
    for p in reports:
        if p.changed and p.family not in families:
            families.append(p.family)
    for fam in reversed(families):
        undo = [plan_of(fam, p.after, p.before) for p in reports if p.family == fam and p.changed]
        try:
            backend.apply(fam, undo)
            msg += "; the %s change was rolled back" % fam
        except BackendError as e2:
            msg += "; rolling back the %s change FAILED: %s" % (fam, e2)
            module.fail_json(msg=msg, changed=True, commands=commands_of(plans))
    module.fail_json(msg=msg, changed=False, commands=commands_of(plans))


def settle(module, backend, planner, families, current, clock=None):
    """Plan, guard, and (outside check mode) apply family by family with
    read-back and re-planning; when a family fails, the families already
    changed are put back, so the task changes all or nothing. -> the plans to
    report (before as read, after as applied, the operations applied) and
    whether it planned again."""
    info = dict(backend=backend.name, variant=backend.variant)
    plans = call_planner(module, planner, current, frozenset(), **info)
    guard = module.params.get("protect_connection")
    if guard:
        guard_connection(module, plans, commands_of)
    if clock is not None:
        clock.lap("plan")
    if module.check_mode:
        return plans, False
    armed = arm_rollback(module, backend, plans, families)
    applied, last = [], []
    for fam in families:
        mine = [p for p in plans if p.family == fam]
        try:
            last.extend(
                apply_family(backend, planner, mine, current, applied, _refuse if guard else None)
            )
        except (BackendError, RuleError) as e:
            if armed:  # the change is undone right here: nothing to revert later
                _rollback.confirm([armed["id"]])
            _undo(module, backend, str(e), RB.report(plans, applied, last), plans)
    if clock is not None:
        clock.lap("apply")
    retried = any(all(p is not q for q in plans) for p in last)
    final = RB.report(plans, applied, last)
    if armed and retried:  # planned again over another writer: undo what was applied
        _rollback.update(armed, undo_texts(final, families), restore_tools(backend, families))
    return final, retried


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


def finish(module, backend, planner, families):
    """The end of a single-object module: read (one save per family), plan,
    guard, apply with read-back (outside check mode), and the common result:
    changed, commands, backend, variant and the diff."""
    with backend.lock():
        current = read_state(module, backend, families)
        plans, _retried = settle(module, backend, planner, families, current)
    for w in unique_warnings(plans):
        module.warn(w)
    result = dict(
        changed=any(p.changed for p in plans),
        commands=commands_of(plans),
        backend=backend.name,
        variant=backend.variant,
        **rollback_result(module),
    )
    if module._diff:
        result["diff"] = diff_of(plans)
    return result


def unique_warnings(plans):
    out = []
    for p in plans:
        out.extend(w for w in p.warnings if w not in out)
    return out
