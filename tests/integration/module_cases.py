"""Shared pieces of the rule, chain, rules_info, query and examples integration tests.

A *case* is a table row: the chains the host starts from, one module task, and
the chains expected after it. Every case runs as the conventions ask: check mode
(with diff), apply (with diff), check mode again, apply again. A task costs about
0.35 s whatever it does, so all the cases of a test module share one playbook per
(variant, backend): one task loads every case's chains (each case works in chains
of its own), then each step runs for every case, with the kernel's saves recorded
between the steps. The playbooks of the combinations run concurrently, once per
test module, and one test per case and combination reads the results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import _netns
from ruleset_cases import (
    COMBOS,
    FAMILIES,
    NO_SSH,
    VARIANT_NAME,
    chains,
    recorded,
    save_task,
    tables,
    unquote,
)

NS = "hostfw.netfilter."
COMBO_VALUES = {p.id: tuple(p.values) for p in COMBOS}
_SPLIT = "=====hfw-split====="  # as in ruleset_cases.save_task, so recorded() reads it


def mtask(module: str, name: str, args: Mapping[str, Any], **params: Any) -> dict:
    """A task of ``hostfw.netfilter.<module>``. Keys starting with ``_`` become task
    keywords (``_check_mode``, ``_diff``, ``_register``…). SSH_CONNECTION is cleared
    and errors are ignored (the playbook goes on; the result says ``failed``)."""
    t = {"name": name, NS + module: dict(args)}
    t["environment"] = NO_SSH
    t["ignore_errors"] = True
    for key, value in params.items():
        assert key.startswith("_"), key
        t[key[1:]] = value
    return t


def table_text(rules: Mapping[str, Sequence[str]], policies: Mapping[str, str] | None = None):
    """``iptables-restore`` text of a filter table: {chain: [rule specs]}."""
    policies = {"INPUT": "ACCEPT", "FORWARD": "ACCEPT", "OUTPUT": "ACCEPT", **(policies or {})}
    names = list(policies) + [c for c in rules if c not in policies]
    head = ["*filter"] + [f":{c} {policies.get(c, '-')} [0:0]" for c in names]
    body = [f"-A {c} {r}" for c in names for r in rules.get(c, ())]
    return "\n".join(head + body + ["COMMIT"]) + "\n"


def load_task(name: str, texts: Mapping[str, str]) -> dict:
    """Load each family's text with a full (flushing) restore of the tables it names,
    then record both saves (read them with ``recorded``)."""
    script = (
        f't=$(cat); printf "%s\\n" "${{t%%{_SPLIT}*}}" | iptables-restore'
        f' && printf "%s\\n" "${{t#*{_SPLIT}}}" | ip6tables-restore'
        f" && iptables-save && echo {_SPLIT} && ip6tables-save"
    )
    return {
        "name": name,
        "ansible.builtin.command": {
            "argv": ["sh", "-c", script],
            "stdin": texts["ipv4"] + _SPLIT + "\n" + texts["ipv6"],
        },
        "changed_when": False,
    }


def per_family(value):
    """A value given once for both families, or as {family: value}."""
    if isinstance(value, dict) and value and set(value) <= set(FAMILIES):
        return value
    return {fam: value for fam in FAMILIES}


# ------------------------------------------------------------------------- case runs
#
# A case is (id, before, args, expect, keywords). ``before`` and ``expect`` map chain
# names to rule specs (or to (policy, specs); None in ``expect``: the chain is gone),
# once for both families or as {family: {...}}. An ``@`` in chain names, specs and
# args stands for the case's own chain, named by its id, so that the cases of one
# playbook never touch each other's chains (a built-in chain belongs to one case).


def sub(value, cid: str):
    """``value`` with every ``@`` replaced by ``cid``."""
    if isinstance(value, str):
        return value.replace("@", cid)
    if isinstance(value, dict):
        return {sub(k, cid): sub(v, cid) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(sub(v, cid) for v in value)
    return value


def _tables(case, which: int) -> dict:
    """{family: {chain: (policy, [specs]) or None}} of a case's before (1) or expect (3)."""
    cid = case[0]
    out = {}
    for fam, spec in per_family(sub(case[which], cid)).items():
        out[fam] = {}
        for name, v in spec.items():
            if isinstance(v, tuple):
                out[fam][name] = (v[0], [unquote(r) for r in v[1]])
            elif v is None:
                out[fam][name] = None
            else:
                out[fam][name] = (None, [unquote(r) for r in v])
    return out


def case_chains(case) -> dict:
    """{family: {chain: (policy, specs) or None}} the case expects, over every chain it
    names before or after (policy None: as before, or '-' for a new chain)."""
    before, expect = _tables(case, 1), _tables(case, 3)
    out = {}
    for fam in FAMILIES:
        out[fam] = {}
        for name in list(before[fam]) + [n for n in expect[fam] if n not in before[fam]]:
            was = before[fam].get(name)
            v = expect[fam].get(name, was)
            if v is not None and v[0] is None:
                policy = was[0] if was and was[0] else ("-" if name not in BUILTIN else "ACCEPT")
                v = (policy, v[1])
            out[fam][name] = v
    return out


BUILTIN = ("INPUT", "FORWARD", "OUTPUT")


def load_texts(cases) -> dict[str, str]:
    """The filter table of every case's ``before``, per family."""
    merged = {fam: {} for fam in FAMILIES}
    for case in cases:
        for fam, spec in _tables(case, 1).items():
            for name, v in spec.items():
                assert name not in merged[fam], f"{case[0]}: chain {name} is another case's"
                merged[fam][name] = v
    texts = {}
    for fam, spec in merged.items():
        policies = {c: v[0] for c, v in spec.items() if v[0]}
        texts[fam] = table_text({c: v[1] for c, v in spec.items()}, policies)
    return texts


def case_tasks(cases, module: str, backend: str) -> list:
    """One playbook for all ``cases``: load every case's chains, then each step for
    every case: check (diff), a save, apply (diff), a save, check again, again, a save."""

    def step(step_name, **kw):
        return [
            mtask(module, f"{c[0]}: {step_name}", {**sub(c[2], c[0]), "backend": backend}, **kw)
            for c in cases
        ]

    return [
        load_task("load", load_texts(cases)),
        *step("check", _check_mode=True, _diff=True),
        save_task("after check"),
        *step("apply", _diff=True),
        save_task("after apply"),
        *step("check again", _check_mode=True),
        *step("again"),
        save_task("final"),
    ]


def run_combos(variant_bins, workdir, build: Callable[[str], list], combos=None) -> dict:
    """Run the tasks ``build(combo id)`` makes once per (variant, backend) combination,
    each in its own namespace, concurrently; -> {combo id: {task name: result}}."""
    combos = combos or list(COMBO_VALUES)
    spaces = {}
    try:
        for cid in combos:
            variant, _backend = COMBO_VALUES[cid]
            d = workdir / cid
            d.mkdir()
            spaces[cid] = _netns.Netns(variant, variant_bins[variant], d)
        with ThreadPoolExecutor(max_workers=len(combos)) as pool:
            futures = {
                cid: pool.submit(_netns.run_playbook, spaces[cid], build(cid)) for cid in combos
            }
            out = {}
            for cid, fut in futures.items():
                named = {}
                for r in fut.result():
                    assert r["_task"] not in named, f"task name {r['_task']!r} used twice"
                    named[r["_task"]] = r
                out[cid] = named
            return out
    finally:
        for ns in spaces.values():
            with contextlib.suppress(Exception):
                ns.close()


def _view(save_text: str, names) -> dict:
    """{chain: (policy, specs) or None} of the named chains of a filter table text."""
    have = chains(unquote(save_text))
    return {n: have.get(n) for n in names}


def check_case(
    res: Mapping[str, dict],
    case,
    combo: str,
    *,
    moved: bool | None = None,
    found: Any = "unset",
    warning: str | None = None,
    removed: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Assert one case of a ``case_tasks`` run: check mode reports the change and
    leaves the host untouched, apply brings the kernel's chains of the case to what
    it expects, and the re-runs (check mode, then for real) change nothing. A case
    that expects its starting chains expects no change at all."""
    cid = case[0]
    variant, backend = COMBO_VALUES[combo]
    steps = {s: res.get(f"{cid}: {s}") for s in ("check", "apply", "check again", "again")}
    missing = [s for s, r in steps.items() if r is None]
    assert not missing, f"{cid}: tasks did not run: {missing}"
    for s, r in steps.items():
        assert not r["failed"], f"{cid}: {s} failed: {r.get('msg')}"
    saves = {s: recorded(res[s]) for s in ("load", "after check", "after apply", "final")}
    want = case_chains(case)
    before = {fam: _view(saves["load"][fam], want[fam]) for fam in FAMILIES}
    changing = [fam for fam in FAMILIES if want[fam] != before[fam]]

    # the kernel holds what the case expects, after apply and after the re-runs
    for s in ("after apply", "final"):
        for fam in FAMILIES:
            got = _view(saves[s][fam], want[fam])
            assert got == want[fam], f"{cid}: {fam} kernel chains {s}"
    assert saves["after check"] == saves["load"], "check mode changed the host"

    check, apply = steps["check"], steps["apply"]
    assert check["changed"] is bool(changing), f"{cid}: check changed={check['changed']}"
    assert apply["changed"] is bool(changing), f"{cid}: apply changed={apply['changed']}"
    assert apply["commands"] == check["commands"], f"{cid}: check and apply plans differ"
    assert sorted(f for f, c in apply["commands"].items() if c) == sorted(changing), (
        f"{cid}: commands {apply['commands']}"
    )
    assert apply["backend"] == backend, apply["backend"]
    assert apply["variant"] == VARIANT_NAME[variant], apply["variant"]
    if moved is not None:
        assert apply["moved"] is moved, f"{cid}: moved={apply['moved']}"
        assert check["moved"] is moved, f"{cid}: moved in check mode={check['moved']}"
    if found != "unset":
        assert apply["found"] == found, f"{cid}: found={apply['found']!r}"
    if warning is not None:
        for s in ("check", "apply"):
            text = " ".join(steps[s].get("warnings") or [])
            assert warning in text, f"{cid}: {s}: no warning naming {warning!r}: {text!r}"
    if removed is not None:
        got = {f: sorted(unquote(r) for r in v) for f, v in apply["removed"].items() if v}
        want_removed = {f: sorted(unquote(r) for r in v) for f, v in per_family(removed).items()}
        assert got == {f: v for f, v in want_removed.items() if v}, f"{cid}: removed"

    # diff mode: an iptables-save style before/after of each changed family's table
    for r in (check, apply):
        diffs = {d["before_header"]: d for d in r.get("diff") or []}
        assert sorted(diffs) == sorted(f"{fam} filter" for fam in changing), f"{cid}: diff"
        for fam in changing:
            d = diffs[f"{fam} filter"]
            assert _view(d["before"], want[fam]) == before[fam], f"{cid}: {fam} diff before"
            assert _view(d["after"], want[fam]) == want[fam], f"{cid}: {fam} diff after"

    # idempotence: in check mode, then for real
    for s in ("check again", "again"):
        r = steps[s]
        assert r["changed"] is False, f"{cid}: {s} changed: {r.get('commands')}"
        assert not any(r["commands"].values()), f"{cid}: {s} commands: {r['commands']}"
        assert r.get("moved", False) is False, f"{cid}: {s} moved the rule again"


def check_whole_table(res: Mapping[str, dict], cases) -> None:
    """Nothing outside the cases' own chains changed, and the re-runs changed nothing."""
    saves = {s: recorded(res[s]) for s in ("load", "after apply", "final")}
    assert saves["final"] == saves["after apply"], "the re-runs changed the host"
    for fam in FAMILIES:
        want = chains(unquote(saves["load"][fam]))
        for case in cases:
            for name, v in case_chains(case)[fam].items():
                if v is None:
                    want.pop(name, None)
                else:
                    want[name] = v
        got = chains(unquote(saves["final"][fam]))
        assert got == want, f"{fam}: the filter table"
        assert sorted(tables(saves["final"][fam])) == sorted(tables(saves["load"][fam]))


def check_failed(res: Mapping[str, dict], name: str, words: Sequence[str]) -> str:
    """Assert task ``name`` failed with a message holding every one of ``words``."""
    r = res.get(name)
    assert r is not None, f"{name}: did not run"
    assert r["failed"] is True, f"{name}: did not fail: {r}"
    msg = r.get("msg", "")
    missing = [w for w in words if w not in msg]
    assert not missing, f"{name}: message lacks {missing}: {msg!r}"
    return msg
