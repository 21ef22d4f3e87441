"""Machinery of the migration suite (test_migration.py): the playbook of one
variant, and the comparison of two saves as text and as kernel rules.

The cases are data (migration_cases.py). Cases that touch different chains share
a *round*: one reset loads the starting chains of every case of the round, then
each step runs for every case, with both families' saves recorded between steps.
A case sees only its *view*, the chains it names (or whole tables), so the cases
of a round never judge each other's rules.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import _netns
from ruleset_cases import _SPLIT, NO_SSH, strip

BUILTIN = "ansible.builtin.iptables"
OURS = "hostfw.netfilter.rule"
# The one play-level line a migrated playbook gains.
MODULE_DEFAULTS = {"group/hostfw.netfilter.all": {"ip_version": "ipv4"}}

FAMILIES = ("ipv4", "ipv6")
BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
}
ALL = "*"  # a claim on every chain of a table, or (ALL, ALL): the whole namespace
# The steps of a case, in playbook order; the saves each one is judged by.
STEPS = ("builtin", "adopt", "check", "apply", "again")


# ------------------------------------------------------------------ running a play


def run_play(
    ns: _netns.Netns, tasks: Sequence[Mapping], play: Mapping[str, Any], timeout: float = 900
) -> list[dict]:
    """Run ``tasks`` under the play keywords ``play`` (``module_defaults``,
    ``environment``): the migration is about a play-level line, so it is written
    there and not on a block. -> one dict per task result, in order."""
    results = _netns.run_playbook(ns, tasks, play=play, timeout=timeout)
    if not results:
        raise _netns.AnsibleRunError(f"no task result in {ns.name}")
    return results


MIGRATED_PLAY = {"module_defaults": MODULE_DEFAULTS, "environment": NO_SSH}


# ------------------------------------------------------------------ starting states


class Start(NamedTuple):
    """A case's starting point: {family: {(table, chain): (policy, [specs])}}."""

    chains: dict


def parse_setup(setup: Mapping, chain_of) -> Start:
    """``setup``: {"CHAIN" or "table:CHAIN": specs or (policy, specs)}, once for both
    families or as {family: {...}}; ``chain_of`` replaces the case's ``@``."""
    per_family = bool(setup) and set(setup) <= set(FAMILIES)
    per = {fam: (setup.get(fam, {}) if per_family else setup) for fam in FAMILIES}
    out = {}
    for fam, spec in per.items():
        out[fam] = {}
        for key, value in spec.items():
            table, _sep, chain = key.rpartition(":")
            policy, specs = value if isinstance(value, tuple) else (None, value)
            out[fam][(table or "filter", chain_of(chain))] = (policy, [chain_of(s) for s in specs])
    return Start(out)


def restore_texts(starts: Sequence[Start]) -> dict[str, str]:
    """Full restore text (filter, nat, mangle) per family of the merged starts."""
    texts = {}
    for fam in FAMILIES:
        merged = {}
        for start in starts:
            for key, value in start.chains[fam].items():
                assert key not in merged, f"{key} is in two starts of one round"
                merged[key] = value
        lines = []
        for table, builtins in BUILTIN_CHAINS.items():
            users = [c for (t, c) in merged if t == table and c not in builtins]
            lines.append(f"*{table}")
            for chain in builtins:
                policy = merged.get((table, chain), (None, []))[0] or "ACCEPT"
                lines.append(f":{chain} {policy} [0:0]")
            lines += [f":{c} - [0:0]" for c in users]
            for chain in (*builtins, *users):
                lines += [f"-A {chain} {s}" for s in merged.get((table, chain), (None, []))[1]]
            lines.append("COMMIT")
        texts[fam] = "\n".join(lines) + "\n"
    return texts


def reset_task(name: str, texts: Mapping[str, str]) -> dict:
    """Record both saves (the state the last step left), then load ``texts`` with a
    flushing restore of each family, then record both saves again."""
    both = f"iptables-save && echo {_SPLIT} && ip6tables-save"
    script = (
        f"{both} && echo {_SPLIT} && "
        f't=$(cat); printf "%s\\n" "${{t%%{_SPLIT}*}}" | iptables-restore'
        f' && printf "%s\\n" "${{t#*{_SPLIT}}}" | ip6tables-restore'
        f" && {both}"
    )
    return {
        "name": name,
        "ansible.builtin.command": {
            "argv": ["sh", "-c", script],
            "stdin": texts["ipv4"] + _SPLIT + "\n" + texts["ipv6"],
        },
        "changed_when": False,
    }


def saves_of(result: Mapping) -> list[dict[str, str]]:
    """The [{family: normalised save}] a save_task (one) or reset_task (two) recorded."""
    assert not result.get("failed"), result
    parts = result["stdout"].split(_SPLIT)
    assert len(parts) in (2, 4), result["stdout"][:500]
    return [
        {"ipv4": normal(parts[i]), "ipv6": normal(parts[i + 1])} for i in range(0, len(parts), 2)
    ]


# ------------------------------------------------------------------ comparing saves

_COUNTERS = re.compile(r" \[\d+:\d+\]$")


def normal(save_text: str) -> str:
    """A save without its comment lines, with the chain counters zeroed."""
    return "".join(_COUNTERS.sub(" [0:0]", line) + "\n" for line in strip(save_text).splitlines())


def view(save_text: str, claims: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list]:
    """{(table, chain): [header line, rule lines]} of the claimed chains ([] if the
    chain is missing); a claim (table, ALL) takes the table's every line, (ALL, ALL)
    the whole save."""
    lines_of: dict[tuple[str, str], list] = {}
    table = None
    for line in save_text.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            lines_of.setdefault((table, line[1:].split()[0]), []).append(line)
        elif line.startswith("-A "):
            lines_of.setdefault((table, line.split()[1]), []).append(line)
    out = {}
    for t, c in claims:
        if t == ALL:
            out[(t, c)] = save_text.splitlines()
        elif c == ALL:
            out[(t, c)] = [x for (tt, _c), v in lines_of.items() if tt == t for x in v]
        else:
            out[(t, c)] = lines_of.get((t, c), [])
    return out


def outside(save_text: str, claims: Iterable[tuple[str, str]]) -> list[str]:
    """The lines of a save that no claim covers (with the table heads)."""
    claims = set(claims)
    if (ALL, ALL) in claims:
        return []
    out, table = [], None
    for line in save_text.splitlines():
        if line.startswith("*"):
            table = line[1:]
            out.append(line)
        elif line.startswith((":", "-A ")):
            chain = line[1:].split()[0] if line.startswith(":") else line.split()[1]
            if (table, chain) not in claims and (table, ALL) not in claims:
                out.append(line)
        else:
            out.append(line)
    return out


def chunks(rule_line: str) -> tuple:
    """A rule as the kernel holds it with the order of its match modules ignored:
    (base options, sorted ``-m NAME ...`` chunks, target). Both modules' rules are
    kernel output, so their words are already canonical; only the module order of
    an identical set of matches can differ."""
    words = shlex.split(rule_line)
    assert words[0] == "-A", rule_line
    words = words[2:]
    base, matches, target, current = [], [], [], None
    for i, w in enumerate(words):
        if w in ("-j", "-g") and (i == 0 or words[i - 1] != "!"):
            target = words[i:]
            break
        if w == "-m":
            current = [w]
            matches.append(current)
        elif current is None:
            base.append(w)
        else:
            current.append(w)
    return (tuple(base), tuple(sorted(tuple(m) for m in matches)), tuple(target))


def as_kernel_rules(lines: Sequence[str]) -> list:
    return [chunks(x) if x.startswith("-A ") else x for x in lines]


EXACT, ORDER, DIFFERENT = "exact", "match-module order only", "different"


def compare(a: Mapping[str, dict], b: Mapping[str, dict]) -> str:
    """How two {family: view} agree: EXACT (line for line), ORDER (as kernel rules,
    where only the order of match modules inside a rule differs) or DIFFERENT."""
    if a == b:
        return EXACT
    for fam in FAMILIES:
        for key in a[fam].keys() | b[fam].keys():
            if as_kernel_rules(a[fam].get(key, [])) != as_kernel_rules(b[fam].get(key, [])):
                return DIFFERENT
    return ORDER


def diff(a: Mapping[str, dict], b: Mapping[str, dict], names=("builtin", "ours")) -> str:
    """A unified diff of two {family: view}, for failure messages."""
    out = []
    for fam in FAMILIES:
        for key in sorted(a[fam].keys() | b[fam].keys()):
            x, y = a[fam].get(key, []), b[fam].get(key, [])
            if x != y:
                head = [f"--- {names[0]} {fam} {key}", f"+++ {names[1]} {fam} {key}"]
                body = difflib.unified_diff(x, y, lineterm="", n=1)
                out += head + [d for d in body if not d.startswith(("---", "+++"))]
    return "\n".join(out) or "(no difference)"
