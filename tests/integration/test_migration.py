"""Migration from ansible.builtin.iptables (issue #11): a task moves to
hostfw.netfilter.rule by its module name, plus one play-level line,
``module_defaults: {group/hostfw.netfilter.all: {ip_version: ipv4}}``.

Method. Every case of migration_cases.CASES is an ansible.builtin.iptables task
as users write it. On both iptables variants (nf_tables and legacy, chosen by
PATH), each case runs these steps, judged by both families' iptables-save:

a. the builtin task on a fresh start, and ours (the same arguments under the
   other module name, in the migrated play) on another fresh start: the two
   saves must be equal line for line (comment lines dropped, chain counters
   zeroed). If the text differs, they are compared as kernel rules where only the
   order of the ``-m`` match modules inside a rule may differ; which of the two
   held is asserted per case (ORDER_ONLY lists the second kind, with the reason).
   Ours also reports ``changed`` as the builtin did;
b. ours again over its own result: changed false, saves unchanged;
c. ours in check mode on a fresh start: changed as the builtin reported, saves
   untouched;
d. ours over exactly what the builtin left: changed false, saves unchanged (the
   builtin's unnamed rules are adopted as they are).

Not counted, but asserted so that the lists cannot go stale: BUILTIN_FAULTS,
where the builtin itself fails or misbehaves (the test asserts that it still
does, and what ours does instead); ON_PURPOSE, where we differ on purpose (the
test asserts exactly the difference); REFUSED, the NAT/mangle-only parameters
and host names, which ours refuses in check mode and for real with a message
naming the key, changing nothing (they run in rounds of their own, so "nothing"
is the whole namespace).

Counts (test_counts_documented keeps them true): 86 cases; 69 must match the
builtin, 3 of them by match-module order only; 2 differ on purpose;
7 are refused; 8 builtin faults (7 on both variants, 1 on legacy only).

Speed: a task costs about 0.35 s, so cases that touch different chains (each
case works in a user chain of its own, named by its id, unless it is about a
built-in chain) share a round: one reset loads every case's start, then each
step runs for all the cases of the round, with both saves recorded between the
steps (_migration.py). One playbook per variant holds every round; the two run
concurrently, once per test module, and one test per (case, variant) reads the
results. test_rounds_keep_to_their_chains proves that no step touched anything
outside the chains its round's cases own. The results are kept in
tests/output/migration/; HFW_MIGRATION_REPLAY=1 judges those again without
running anything (to try an expectation).
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _migration as M
import _netns
import pytest
from migration_cases import (
    BUILTIN_FAULTS,
    CASES,
    IPSETS,
    ON_PURPOSE,
    ORDER_ONLY,
    REFUSED,
)
from ruleset_cases import save_task

CASE = {c.id: c for c in CASES}
VARIANTS = _netns.VARIANTS
SUMMARY_DIR = Path(__file__).resolve().parents[1] / "output" / "migration"


def chain_of(case):
    """The case's own user chain: its id in capitals (``@`` in its data)."""
    own = case.id.upper()
    return lambda text: text.replace("@", own) if isinstance(text, str) else text


def args_of(case) -> dict:
    sub = chain_of(case)
    out = {}
    for k, v in case.args.items():
        out[k] = [sub(x) for x in v] if isinstance(v, list) else sub(v)
    return out


def start_of(case) -> M.Start:
    return M.parse_setup(case.setup, chain_of(case))


def claims(case) -> list[tuple[str, str]]:
    """The (table, chain) pairs a case owns: its task's chain (or the whole table)
    and the chains of its setup."""
    table = case.args.get("table", "filter")
    own = [(table, chain_of(case)(case.args.get("chain") or M.ALL))]
    for fam in M.FAMILIES:
        own += [k for k in start_of(case).chains[fam] if k not in own]
    return own


def _conflict(a, b) -> bool:
    for ta, ca in claims(a):
        for tb, cb in claims(b):
            if ta == tb and (ca == cb or M.ALL in (ca, cb)):
                return True
    return False


def plan_rounds(cases) -> list[list]:
    """Cases in rounds whose cases own disjoint chains; refused cases in rounds of
    their own (first fit, in table order)."""
    rounds: list[tuple[bool, list]] = []
    for case in cases:
        refused = case.id in REFUSED
        for kind, members in rounds:
            if kind == refused and not any(_conflict(case, m) for m in members):
                members.append(case)
                break
        else:
            rounds.append((refused, [case]))
    return [members for _kind, members in rounds]


ROUNDS = plan_rounds(CASES)
ROUND_OF = {c.id: n for n, members in enumerate(ROUNDS) for c in members}


# ----------------------------------------------------------------------- the play


def steps_of(case, variant: str) -> tuple:
    """All the steps; a refused case or a builtin fault needs only the builtin run
    and ours in check mode and for real."""
    fault = BUILTIN_FAULTS.get(case.id)
    if fault is not None and variant in fault.variants:
        return ("builtin", "check", "apply") + ("again",) * isinstance(fault.ours, dict)
    if case.id in REFUSED:
        return ("builtin", "check", "apply")
    return M.STEPS


def step_task(case, step: str) -> dict:
    module = M.BUILTIN if step == "builtin" else M.OURS
    task = {"name": f"{case.id}: {step}", module: args_of(case), "ignore_errors": True}
    if step == "check":
        task["check_mode"] = True
    return task


def play_tasks(variant: str) -> list[dict]:
    tasks = [
        {
            "name": "ipsets",
            "ansible.builtin.command": {"argv": ["ipset", "restore", "-exist"], "stdin": IPSETS},
            "changed_when": False,
        }
    ]
    for n, members in enumerate(ROUNDS):
        texts = M.restore_texts([start_of(c) for c in members])
        tasks.append(M.reset_task(f"round {n}: start", texts))

        def each(step, members=members):
            return [step_task(c, step) for c in members if step in steps_of(c, variant)]

        tasks += each("builtin")
        tasks.append(save_task(f"round {n}: after builtin"))
        tasks += each("adopt")
        tasks.append(M.reset_task(f"round {n}: start again", texts))
        tasks += each("check")
        tasks.append(save_task(f"round {n}: after check"))
        tasks += each("apply")
        tasks.append(save_task(f"round {n}: after apply"))
        tasks += each("again")
    tasks.append(save_task("end"))
    return tasks


class RoundSaves:
    """The saves of one round, by the point they were taken at."""

    POINTS = ("start", "builtin", "adopt", "start again", "check", "apply", "again")

    def __init__(self, res, n: int):
        nxt = f"round {n + 1}: start" if n + 1 < len(ROUNDS) else "end"
        first, again = (
            M.saves_of(res[f"round {n}: start"]),
            M.saves_of(res[f"round {n}: start again"]),
        )
        self.at = {
            "start": first[-1],
            "builtin": M.saves_of(res[f"round {n}: after builtin"])[0],
            "adopt": again[0],
            "start again": again[1],
            "check": M.saves_of(res[f"round {n}: after check"])[0],
            "apply": M.saves_of(res[f"round {n}: after apply"])[0],
            "again": M.saves_of(res[nxt])[0],
        }

    def view(self, point: str, own) -> dict:
        return {fam: M.view(self.at[point][fam], own) for fam in M.FAMILIES}


def _run_variant(variant_bins, workdir: Path, variant: str) -> dict:
    d = workdir / variant
    d.mkdir()
    ns = _netns.Netns(variant, variant_bins[variant], d)
    try:
        results = M.run_play(ns, play_tasks(variant), M.MIGRATED_PLAY)
    finally:
        ns.close()
    named = {}
    for r in results:
        assert r["_task"] not in named, f"task name {r['_task']!r} used twice"
        named[r["_task"]] = r
    # kept for reading after a run (tests/output is not versioned)
    SUMMARY_DIR.mkdir(parents=True, exist_ok=True)
    (SUMMARY_DIR / f"results-{variant}.json").write_text(json.dumps(named, indent=1))
    return named


@pytest.fixture(scope="module")
def runs(variant_bins, tmp_path_factory):
    """{variant: {task name: result}}: both variants' playbooks, run concurrently.
    With HFW_MIGRATION_REPLAY=1, the results the last run kept are judged again
    (to try a changed expectation without running the playbooks)."""
    if os.environ.get("HFW_MIGRATION_REPLAY") == "1":
        return {v: json.loads((SUMMARY_DIR / f"results-{v}.json").read_text()) for v in VARIANTS}
    workdir = tmp_path_factory.mktemp("migration")
    with ThreadPoolExecutor(max_workers=len(VARIANTS)) as pool:
        futures = {v: pool.submit(_run_variant, variant_bins, workdir, v) for v in VARIANTS}
        out = {v: f.result() for v, f in futures.items()}
    for v, res in out.items():
        assert "end" in res, f"{v}: the playbook stopped early"
    return out


# ----------------------------------------------------------------------- judging


class Judge:
    """One case on one variant: its results and views, and the problems found
    (collected, so that one failure report names all of a case's problems)."""

    def __init__(self, res, case, variant):
        self.case, self.variant = case, variant
        self.own = claims(case)
        self.saves = RoundSaves(res, ROUND_OF[case.id])
        self.r = {s: res.get(f"{case.id}: {s}") for s in steps_of(case, variant)}
        missing = [s for s, r in self.r.items() if r is None]
        assert not missing, f"{case.id}: tasks did not run: {missing}"
        self.problems: list[str] = []

    def v(self, point):
        return self.saves.view(point, self.own)

    def expect(self, ok, text):
        if not ok:
            self.problems.append(text)

    def msg(self, step):
        return " ".join(str(self.r[step].get("msg", "")).split())[:400]

    def succeeded(self, step) -> bool:
        self.expect(not self.r[step]["failed"], f"{step}: failed: {self.msg(step)}")
        return not self.r[step]["failed"]

    def same_views(self, a, b, what):
        va, vb = self.v(a), self.v(b)
        self.expect(va == vb, f"{what}:\n{M.diff(va, vb, (a, b))}")

    def unchanged(self, step, before, after):
        if self.succeeded(step):
            self.expect(self.r[step]["changed"] is False, f"{step}: changed: {self.plan_of(step)}")
        self.same_views(before, after, f"{step}: the saves changed")

    def plan_of(self, step):
        return self.r[step].get("commands") or self.r[step].get("rule")

    def done(self):
        head = f"{self.case.id} on {self.variant} ({len(self.problems)} problems)"
        assert not self.problems, head + ":\n- " + "\n- ".join(self.problems)


def judge_same(j: Judge, order_only: bool):
    """Steps a-d: ours as the builtin, idempotent, check mode, adoption."""
    b = j.r["builtin"]
    if b["failed"]:
        j.expect(False, f"builtin failed (list it in BUILTIN_FAULTS?): {j.msg('builtin')}")
        return j.done()
    changed = b["changed"]
    # a. the same kernel rules
    if j.succeeded("apply"):
        j.expect(j.r["apply"]["changed"] is changed, f"apply: changed, builtin: {changed}")
        got = M.compare(j.v("builtin"), j.v("apply"))
        want = M.ORDER if order_only else M.EXACT
        j.expect(got == want, f"a: {got}, expected {want}:\n{M.diff(j.v('builtin'), j.v('apply'))}")
    # b. idempotent
    j.unchanged("again", "apply", "again")
    # c. check mode
    if j.succeeded("check"):
        j.expect(j.r["check"]["changed"] is changed, f"check: changed, builtin: {changed}")
    j.same_views("start again", "check", "check mode changed the saves")
    # d. adoption of what the builtin left
    j.unchanged("adopt", "builtin", "adopt")
    j.same_views("start", "start again", "the two starts differ")
    j.done()


def chain_lines(j: Judge, specs_by_family) -> dict:
    """The start's view with the case's own chain holding the given rule specs."""
    table, chain = j.own[0]
    out = j.v("start")
    for fam, specs in specs_by_family.items():
        head = [x for x in out[fam][(table, chain)] if x.startswith(":")]
        out[fam][(table, chain)] = head + [f"-A {chain} {s}" for s in specs]
    return out


def judge_on_purpose(j: Judge, spec):
    for step in M.STEPS:
        j.succeeded(step)
    if j.problems:
        return j.done()
    changed = j.r["builtin"]["changed"]
    want_b, want_o = chain_lines(j, spec.builtin), chain_lines(j, spec.ours)
    j.expect(
        j.v("builtin") == want_b, f"builtin:\n{M.diff(want_b, j.v('builtin'), ('want', 'got'))}"
    )
    j.expect(j.v("apply") == want_o, f"ours:\n{M.diff(want_o, j.v('apply'), ('want', 'got'))}")
    j.expect(j.v("builtin") != j.v("apply"), "no difference left: drop it from ON_PURPOSE")
    j.expect(j.r["apply"]["changed"] is changed, "apply: changed differs from the builtin")
    j.expect(j.r["check"]["changed"] is changed, "check: changed differs from the builtin")
    j.same_views("start again", "check", "check mode changed the saves")
    j.unchanged("again", "apply", "again")
    j.expect(j.r["adopt"]["changed"] is spec.adopt_changed, f"adopt: changed {spec.adopt_changed}")
    want_a = chain_lines(j, spec.adopted) if spec.adopted is not None else want_o
    j.expect(j.v("adopt") == want_a, f"adopt:\n{M.diff(want_a, j.v('adopt'), ('want', 'got'))}")
    j.done()


def judge_refused(j: Judge, refusal):
    j.expect(not j.r["builtin"]["failed"], f"builtin failed: {j.msg('builtin')}")
    for step in ("check", "apply"):
        r = j.r[step]
        if not r["failed"]:
            j.expect(False, f"{step}: not refused (changed={r.get('changed')})")
            continue
        text = j.msg(step)
        lacking = [w for w in (f"'{refusal.key}'", *refusal.words) if w not in text]
        j.expect(not lacking, f"{step}: message lacks {lacking}: {text!r}")
    for point in ("check", "apply"):
        j.same_views("start again", point, f"{point}: the saves changed")
    j.done()


def judge_fault(j: Judge, fault):
    """The builtin's fault still shows; ours does what the fault entry says."""
    b = j.r["builtin"]
    if fault.symptom == "fails":
        text = j.msg("builtin")
        j.expect(b["failed"], "builtin no longer fails: drop it from BUILTIN_FAULTS")
        j.expect(all(w in text for w in fault.words), f"builtin: {fault.words} not in {text!r}")
    else:
        j.expect(not b["failed"], f"builtin failed: {j.msg('builtin')}")
        j.expect(
            b.get("changed") is (fault.symptom == "phantom"),
            f"builtin: changed={b.get('changed')}, the fault is {fault.symptom}",
        )
        j.same_views("start", "builtin", f"builtin changed the saves (not {fault.symptom})")
    j.same_views("start again", "check", "check mode changed the saves")
    if isinstance(fault.ours, dict):
        want = chain_lines(j, fault.ours)
        for step in ("check", "apply"):
            if j.succeeded(step):
                j.expect(j.r[step]["changed"] is True, f"{step}: no change reported")
        j.expect(j.v("apply") == want, f"ours:\n{M.diff(want, j.v('apply'), ('want', 'got'))}")
        j.unchanged("again", "apply", "again")
        return j.done()
    j.same_views("start again", "apply", "apply changed the saves")
    for step in ("check", "apply"):
        r = j.r[step]
        if fault.ours == "fails":
            text = j.msg(step)
            ok = r["failed"] and all(w in text for w in fault.ours_words)
            j.expect(ok, f"{step}: expected a failure naming {fault.ours_words}: {text!r}")
        elif j.succeeded(step):
            j.expect(r["changed"] is False, f"{step}: changed: {j.plan_of(step)}")
            text = " ".join(r.get("warnings") or [])
            j.expect(all(w in text for w in fault.ours_words), f"{step}: warnings {text!r}")
    j.done()


PARAMS = [pytest.param(c.id, v, id=f"{c.id}-{v}") for c in CASES for v in VARIANTS]


@pytest.mark.parametrize(("cid", "variant"), PARAMS)
def test_case(runs, cid, variant, record_property):
    case = CASE[cid]
    j = Judge(runs[variant], case, variant)
    record_property("round", ROUND_OF[cid])
    if not j.r["builtin"]["failed"] and not j.r["apply"]["failed"]:
        record_property("comparison", M.compare(j.v("builtin"), j.v("apply")))
    fault = BUILTIN_FAULTS.get(cid)
    if fault is not None and variant in fault.variants:
        judge_fault(j, fault)
    elif cid in REFUSED:
        judge_refused(j, REFUSED[cid])
    elif cid in ON_PURPOSE:
        judge_on_purpose(j, ON_PURPOSE[cid])
    else:
        judge_same(j, cid in ORDER_ONLY)


@pytest.mark.parametrize("variant", VARIANTS)
def test_rounds_keep_to_their_chains(runs, variant):
    """No step changed anything outside the chains its round's cases own; in the
    rounds of refused cases, ours changed nothing at all."""
    problems = []
    for n, members in enumerate(ROUNDS):
        own = [c for case in members for c in claims(case)]
        saves = RoundSaves(runs[variant], n)
        for fam in M.FAMILIES:
            first = M.outside(saves.at["start"][fam], own)
            for point in RoundSaves.POINTS[1:]:
                if M.outside(saves.at[point][fam], own) != first:
                    problems.append(f"round {n} {fam}: outside the cases' chains at {point}")
            if members[0].id in REFUSED:
                for a, b in (("start again", "check"), ("check", "again")):
                    if saves.at[a][fam] != saves.at[b][fam]:
                        problems.append(f"round {n} {fam}: refused, but {b} changed the save")
    assert not problems, problems


def test_play_is_migrated_by_name_only():
    """The builtin and our task of a case differ only in the module name; the play
    gains only module_defaults (and the environment every test play has)."""
    for case in CASES:
        theirs, ours = step_task(case, "builtin"), step_task(case, "apply")
        assert theirs.pop(M.BUILTIN) == ours.pop(M.OURS)
        assert {k: v for k, v in theirs.items() if k != "name"} == {
            k: v for k, v in ours.items() if k != "name"
        }
    assert set(M.MIGRATED_PLAY) == {"module_defaults", "environment"}


def test_tables_consistent():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    for table in (REFUSED, ORDER_ONLY, ON_PURPOSE, BUILTIN_FAULTS):
        assert set(table) <= set(ids), set(table) - set(ids)
    listed = [set(REFUSED), set(ORDER_ONLY), set(ON_PURPOSE), set(BUILTIN_FAULTS)]
    for i, a in enumerate(listed):
        for b in listed[i + 1 :]:
            assert not a & b, a & b
    for case in CASES:
        for _table, chain in claims(case):
            assert len(chain) <= 28, chain
    for fault in BUILTIN_FAULTS.values():
        assert set(fault.variants) <= set(VARIANTS) and fault.symptom in (
            "fails",
            "phantom",
            "blind",
        )


def counts() -> dict:
    faults = BUILTIN_FAULTS.values()
    return {
        "cases": len(CASES),
        "match": len(CASES) - len(REFUSED) - len(ON_PURPOSE) - len(BUILTIN_FAULTS),
        "order": len(ORDER_ONLY),
        "purpose": len(ON_PURPOSE),
        "refused": len(REFUSED),
        "faults": len(BUILTIN_FAULTS),
        "faults both": sum(set(f.variants) == set(VARIANTS) for f in faults),
        "faults one": sum(set(f.variants) != set(VARIANTS) for f in faults),
    }


def test_counts_documented():
    doc = " ".join(__doc__.split())
    m = re.search(
        r"(\d+) cases; (\d+) must match the builtin, (\d+) of them by match-module order "
        r"only; (\d+) differs? on purpose; (\d+) are refused; (\d+) builtin faults "
        r"\((\d+) on both variants, (\d+) on legacy only\)",
        doc,
    )
    assert m, "the docstring's counts sentence changed its form"
    assert tuple(int(x) for x in m.groups()) == tuple(counts().values()), counts()
