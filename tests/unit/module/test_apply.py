"""Concurrency-safe apply (module_utils/_module.py settle/apply_family, planning
again with _plan/rebase.py): a fake backend whose kernel is the model (operations
applied with simulate) and whose apply can "race" - another writer changes a chain
between the module's read and its write. Afterwards the foreign change must be
where its writer put it and ours as planned, with bounded retries. The rebase
functions alone: tests/unit/plan/test_rebase.py."""

from __future__ import annotations

import contextlib

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils import _module as M
from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.base import BackendError
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGN
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import rebase as RB
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import states as STATES
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.tasks import (
    ChainTask,
    RuleTask,
)
from ansible_collections.hostfw.netfilter.plugins.modules import rule as RULE_MODULE
from ansible_collections.hostfw.netfilter.tests.fixtures.input_chain import (
    HAND,
    X10,
    A,
    B,
    C,
    D,
    F,
    K,
    X,
    filter_table,
    spec,
    specs,
)
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import rule

FAMS = ("ipv4",)


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, params=None, check_mode=False):
        self.params = dict(protect_connection=False, **(params or {}))
        self.check_mode = check_mode
        self._diff = True
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)

    def fail_json(self, **kw):
        raise Failed(kw)


class FakeBackend:
    """The kernel as the model: apply = simulate (a rejected transaction leaves
    nothing, as iptables-restore). `writers`: one callable per apply call, run on
    the tables just before that transaction (None: nobody writes)."""

    name = "fake"
    variant = "legacy"

    def __init__(self, tables, writers=(), reject=None, mangle=False):
        self.tables = {fam: {"filter": t.copy()} for fam, t in tables.items()}
        self.writers = list(writers)
        self.reject = reject or set()
        self.mangle = mangle
        self.applied = []
        self.reads = 0

    @contextlib.contextmanager
    def lock(self):
        yield

    def read(self, family, counters=False):
        self.reads += 1
        return "".join(SAVE.render_table(t) for t in self.tables[family].values())

    def foreign_rules(self, family):
        return False

    def apply(self, family, plans):
        writer = self.writers.pop(0) if self.writers else None
        if writer is not None:
            writer(self.tables[family]["filter"])
        self.applied.append((family, [list(p.ops) for p in plans]))
        if family in self.reject:
            raise BackendError("%s: rejected" % family)
        new = dict(self.tables[family])
        for p in plans:
            try:
                new[p.before.name] = OPS.simulate(new.get(p.before.name), p.ops)
            except OPS.SimulationError as e:
                raise BackendError("restore rejected: %s" % e) from e
        if self.mangle:  # the kernel stores a rule otherwise than planned
            for ch in new["filter"].chains.values():
                ch.rules = [rule(r.text().replace("--dport 10 ", "--dport 11 ")) for r in ch.rules]
        self.tables[family] = new


def insert_top(line):
    def writer(table):
        table.chains["INPUT"].rules.insert(0, rule(line))

    return writer


def delete(line):
    def writer(table):
        rules = table.chains["INPUT"].rules
        rules.remove(next(r for r in rules if r.tokens == rule(line).tokens))

    return writer


def rule_params(**kw):
    spec_ = RULE_MODULE.argument_spec()
    p = {k: v.get("default") for k, v in spec_.items()}
    p.update(kw)
    return p


def run(backend, planner, families=FAMS, check_mode=False):
    module = FakeModule(check_mode=check_mode)
    current = M.read_state(module, backend, families)
    plans, retried = M.settle(module, backend, planner, families, current)
    return module, plans, retried


def ruleset_planner(rules, state="replaced", ignore=("^race-",)):
    config = [{"table": "filter", "chains": [{"name": "INPUT", "rules": rules}]}]
    desired = CONFIG.compile_config(config, FAMS)
    ign = IGN.Ignore(list(ignore))

    def planner(current, keep):
        return STATES.plan(current, desired, state, RB.protect(ign, keep), FAMS)

    return planner


def named(port, name, target="ACCEPT"):
    return {"name": name, "protocol": "tcp", "destination_port": port, "jump": target}


# ------------------------------------------------------------- races


def test_rule_replace_with_a_foreign_insert_is_planned_again():
    """-D x; -I INPUT 2 x' lands at the top once a foreign rule came first: the
    read-back sees it, plans again from the fresh state and moves ours back."""
    backend = FakeBackend({"ipv4": filter_table([A, X, B])}, [insert_top(F)])
    task = RuleTask(rule_params(chain="INPUT", **named(10, "x", "DROP")), FAMS)
    _module, plans, retried = run(backend, task.plan)
    assert specs(backend.tables["ipv4"]["filter"]) == [F, A, X10, B]
    assert retried and len(backend.applied) == 2
    assert backend.reads == 3  # the read, then one save per apply
    (p,) = plans
    assert p.changed and specs(p.before) == [A, X, B] and specs(p.after) == [F, A, X10, B]


def test_rule_after_that_moves_with_a_foreign_insert():
    backend = FakeBackend({"ipv4": filter_table([X, A, B, C])}, [insert_top(F)])
    task = RuleTask(rule_params(chain="INPUT", after="b", **named(9, "x", "DROP")), FAMS)
    run(backend, task.plan)
    assert specs(backend.tables["ipv4"]["filter"]) == [F, A, B, X, C]


def test_ruleset_replaced_with_a_foreign_insert_needs_no_retry():
    """Deletes by specification hit the right rule wherever the foreign one is."""
    backend = FakeBackend({"ipv4": filter_table([A, B, C, D])}, [insert_top(F)])
    planner = ruleset_planner([named(1, "a"), named(3, "c"), named(4, "d")])
    _module, _plans, retried = run(backend, planner)
    assert specs(backend.tables["ipv4"]["filter"]) == [F, A, C, D]
    assert not retried and len(backend.applied) == 1


def test_newcomers_are_kept_even_when_ignore_does_not_match_them():
    """A plan made again keeps the rules another writer added meanwhile
    (replaced would delete an unignored foreign rule it had seen at the read)."""
    backend = FakeBackend({"ipv4": filter_table([B, A])}, [insert_top(F)])
    planner = ruleset_planner([named(1, "a"), named(2, "b")], ignore=())
    run(backend, planner)
    got = specs(backend.tables["ipv4"]["filter"])
    assert got.count(F) == 1 and [s for s in got if s != F] == [A, B]


def test_foreign_delete_of_a_kept_rule_is_left_deleted():
    backend = FakeBackend({"ipv4": filter_table([K, A, B, C])}, [delete(K)])
    planner = ruleset_planner([named(1, "a"), named(3, "c")])
    _module, plans, retried = run(backend, planner)
    assert specs(backend.tables["ipv4"]["filter"]) == [A, C]
    assert retried and plans[0].changed and specs(plans[0].after) == [A, C]


def test_rejected_because_the_rule_to_delete_is_gone_plans_again():
    """The other writer deleted the very rule we delete: the transaction is
    rejected (no rule matches), and the fresh state is already what was planned:
    nothing done, nothing to report as changed."""
    backend = FakeBackend({"ipv4": filter_table([A, X, B])}, [delete(X)])
    task = RuleTask(rule_params(chain="INPUT", name="x", state="absent"), FAMS)
    _module, plans, retried = run(backend, task.plan)
    assert specs(backend.tables["ipv4"]["filter"]) == [A, B]
    assert not retried and not plans[0].changed and len(backend.applied) == 1


def test_rejected_after_a_foreign_change_plans_again():
    """Rejected (the rule to delete is gone) while the chain also changed
    otherwise: plan again from the fresh state, apply once more."""

    def writer(table):
        delete(X)(table)
        insert_top(F)(table)

    backend = FakeBackend({"ipv4": filter_table([A, X, B, C])}, [writer])
    planner = ruleset_planner([named(1, "a"), named(4, "d"), named(3, "c")], ignore=())
    _module, _plans, retried = run(backend, planner)
    assert specs(backend.tables["ipv4"]["filter"]) == [F, A, D, C]
    assert retried and len(backend.applied) == 2


def test_chain_purge_with_a_foreign_insert():
    backend = FakeBackend({"ipv4": filter_table([A, HAND, B])}, [insert_top(F)])
    params = dict(
        name="INPUT", table="filter", state="present", policy=None, flush=False, purge=True
    )
    task = ChainTask(dict(params, ignore=[], force=False), FAMS)
    run(backend, task.plan)
    assert specs(backend.tables["ipv4"]["filter"]) == [F, A, B]
    assert task.report() == {"removed": {"ipv4": ["-A INPUT %s" % HAND]}}


def test_a_writer_that_never_stops_gives_a_clear_error():
    writers = [insert_top(spec(100 + i, target="DROP")) for i in range(10)]
    backend = FakeBackend({"ipv4": filter_table([A, X, B])}, writers)
    task = RuleTask(rule_params(chain="INPUT", **named(10, "x", "DROP")), FAMS)
    with pytest.raises(Failed) as e:
        run(backend, task.plan)
    msg = e.value.args[0]["msg"]
    assert "gave up after 3 retries" in msg and "INPUT" in msg
    assert len(backend.applied) <= 1 + M.RETRIES + 1  # the retries, then the rollback
    # never a foreign rule deleted
    got = specs(backend.tables["ipv4"]["filter"])
    assert all(spec(100 + i, target="DROP") in got for i in range(M.RETRIES + 1))


def test_a_rule_stored_otherwise_is_an_error_not_a_retry():
    backend = FakeBackend({"ipv4": filter_table([A, X, B])}, mangle=True)
    task = RuleTask(rule_params(chain="INPUT", **named(10, "x", "DROP")), FAMS)
    with pytest.raises(Failed) as e:
        run(backend, task.plan)
    assert "does not hold what this task just wrote" in e.value.args[0]["msg"]
    assert len(backend.applied) == 2  # the transaction, then its rollback


# ---------------------------------------------------- all or nothing


def test_a_rejected_second_family_rolls_the_first_back():
    both = ("ipv4", "ipv6")
    backend = FakeBackend({f: filter_table([A]) for f in both}, reject={"ipv6"})
    config = [{"table": "filter", "chains": [{"name": "INPUT", "rules": [named(2, "b")]}]}]
    desired = CONFIG.compile_config(config, both)

    def planner(current, keep):
        return STATES.plan(current, desired, "merged", IGN.Ignore([]), both)

    with pytest.raises(Failed) as e:
        run(backend, planner, both)
    res = e.value.args[0]
    assert "ipv6: rejected" in res["msg"] and "the ipv4 change was rolled back" in res["msg"]
    assert res["changed"] is False
    assert specs(backend.tables["ipv4"]["filter"]) == [A]


def test_a_genuine_rejection_is_not_retried():
    backend = FakeBackend({"ipv4": filter_table([A])}, reject={"ipv4"})
    planner = ruleset_planner([named(1, "a"), named(2, "b")], state="merged")
    with pytest.raises(Failed) as e:
        run(backend, planner)
    assert e.value.args[0]["msg"].startswith("ipv4: rejected")
    assert len(backend.applied) == 1


def test_check_mode_applies_nothing():
    backend = FakeBackend({"ipv4": filter_table([A])})
    planner = ruleset_planner([named(2, "b")], state="merged")
    _module, plans, retried = run(backend, planner, check_mode=True)
    assert plans[0].changed and not retried and backend.applied == []


def test_finish_result_and_commands():
    backend = FakeBackend({"ipv4": filter_table([A, X, B])}, [insert_top(F)])
    task = RuleTask(rule_params(chain="INPUT", **named(10, "x", "DROP")), FAMS)
    module = FakeModule()
    result = M.finish(module, backend, task.plan, FAMS)
    assert result["changed"] is True and result["backend"] == "fake"
    cmds = result["commands"]["ipv4"]
    # every operation applied, in order (the first transaction, then the second),
    # the table framed once
    assert cmds[0] == "*filter" and cmds[-1] == "COMMIT" and cmds.count("COMMIT") == 1
    assert cmds[1:3] == ["-D INPUT %s" % X, "-I INPUT 2 %s" % X10] and len(cmds) > 4
    assert result["diff"][0]["after"].count("--dport 10 ") == 1
