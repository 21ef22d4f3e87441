"""hostfw.netfilter.chain: create, delete, policy, flush and purge, on every
(variant, backend), each case as check mode, apply, check mode again and apply
again, verified against the kernel's saves (module_cases). Deleting a chain that
is still jumped to is refused (naming the rules) unless force; bad input fails
naming the key and leaves the host as it was.
"""

from __future__ import annotations

import pytest
from module_cases import (
    COMBO_VALUES,
    case_tasks,
    check_case,
    check_failed,
    check_whole_table,
    load_task,
    mtask,
    run_combos,
    table_text,
)
from ruleset_cases import FAMILIES, by_name, recorded, save_task

A = '-p tcp -m tcp --dport 1 -m comment --comment "hostfw:a" -j ACCEPT'
B = '-p tcp -m tcp --dport 2 -m comment --comment "hostfw:b" -j ACCEPT'
DNS = "-p udp -m udp --dport 53 -j ACCEPT"  # by hand: no name
TELNET = "-p tcp -m tcp --dport 23 -j ACCEPT"  # by hand: no name
TO_F2B = "-p tcp -m tcp --dport 22 -j f2b-sshd"  # fail2ban's jump, no name
KEEP = '-m comment --comment "docker keep" -j RETURN'  # someone else's, with a comment
TO_CASE = "-p tcp -m tcp --dport 80 -j @"  # a jump to the case's chain
TO_CASE_NAMED = '-p tcp -m tcp --dport 81 -m comment --comment "hostfw:web" -j @'

# (id = the case's chain "@", before, task args, expected, check keywords)
CASES = [
    ("create", {}, {"name": "@"}, {"@": []}, dict(removed={})),
    ("exists", {"@": [A]}, {"name": "@"}, {"@": [A]}, {}),
    (
        "policy",
        {"FORWARD": ("ACCEPT", [A])},
        {"name": "FORWARD", "policy": "DROP"},
        {"FORWARD": ("DROP", [A])},
        {},
    ),
    (
        "purge-ignore",
        {"INPUT": [A, DNS, TO_F2B, KEEP, B, TELNET], "f2b-sshd": []},
        {"name": "INPUT", "purge": True, "ignore": ["^f2b-", "docker"]},
        {"INPUT": [A, TO_F2B, KEEP, B]},
        dict(
            removed={
                "ipv4": [f"-A INPUT {DNS}", f"-A INPUT {TELNET}"],
                "ipv6": [f"-A INPUT {DNS}", f"-A INPUT {TELNET}"],
            }
        ),
    ),
    ("purge-ours-only", {"@": [A, B]}, {"name": "@", "purge": True}, {"@": [A, B]}, {}),
    (
        "docker-ignored-chain",
        {"@": [A, DNS]},
        {"name": "@", "purge": True, "ignore": ["^docker-"]},
        {"@": [A, DNS]},
        {},
    ),
    (
        "flush-ignore",
        {"@": [A, KEEP, DNS, B]},
        {"name": "@", "flush": True, "ignore": ["^docker keep$"]},
        {"@": [KEEP]},
        {},
    ),
    ("delete", {"@": [A]}, {"name": "@", "state": "absent"}, {"@": None}, {}),
    (
        "delete-force",
        {"@": [A], "@-from": [B, TO_CASE, TO_CASE_NAMED, DNS]},
        {"name": "@", "state": "absent", "force": True},
        {"@": None, "@-from": [B, DNS]},
        dict(
            removed={
                fam: [
                    "-A delete-force-from " + TO_CASE.replace("@", "delete-force"),
                    "-A delete-force-from " + TO_CASE_NAMED.replace("@", "delete-force"),
                    "-A delete-force " + A,
                ]
                for fam in FAMILIES
            }
        ),
    ),
    (
        "ipv6-only",
        {"@": [A, DNS]},
        {"name": "@", "flush": True, "ip_version": "ipv6"},
        {"ipv4": {"@": [A, DNS]}, "ipv6": {"@": []}},
        {},
    ),
]
IDS = [c[0] for c in CASES]


@pytest.fixture(scope="module")
def chain_runs(variant_bins, tmp_path_factory):
    return run_combos(
        variant_bins,
        tmp_path_factory.mktemp("chain"),
        lambda combo: case_tasks(CASES, "chain", COMBO_VALUES[combo][1]),
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("combo", list(COMBO_VALUES))
def test_chain_case(chain_runs, combo, case):
    check_case(chain_runs[combo], case, combo, **case[4])


@pytest.mark.parametrize("combo", list(COMBO_VALUES))
def test_chain_cases_touch_nothing_else(chain_runs, combo):
    check_whole_table(chain_runs[combo], CASES)


# --------------------------------------------------------------------- refusals

BASE = table_text(
    {
        "INPUT": [
            A,
            "-p tcp -m tcp --dport 80 -j HOSTFW-WEB",
            TO_CASE_NAMED.replace("@", "HOSTFW-WEB"),
        ],
        "HOSTFW-WEB": [B],
    }
)
LONG = "HOSTFW-" + "L" * 22  # 29 characters: one too many
# (task name, args, words the message must contain)
BAD = [
    (
        "delete while jumped to",
        {"name": "HOSTFW-WEB", "state": "absent"},
        ["HOSTFW-WEB", "INPUT rule 2", "INPUT rule 3", "'web'", "force"],
    ),
    ("policy on a user chain", {"name": "HOSTFW-WEB", "policy": "DROP"}, ["HOSTFW-WEB", "policy"]),
    (
        "delete a built-in chain",
        {"name": "INPUT", "state": "absent"},
        ["INPUT", "state", "built-in"],
    ),
    (
        "flush a chain being deleted",
        {"name": "HOSTFW-WEB", "state": "absent", "flush": True},
        ["state"],
    ),
    ("unknown key", {"name": "FORWARD", "polcy": "DROP"}, ["polcy", "policy"]),
    ("bad policy", {"name": "FORWARD", "policy": "REJECT"}, ["policy", "REJECT"]),
    ("chain name too long", {"name": LONG}, [LONG, "name"]),
    (
        "invalid ignore regex",
        {"name": "INPUT", "purge": True, "ignore": ["(unclosed"]},
        ["ignore", "(unclosed"],
    ),
    ("unknown table", {"name": "INPUT", "table": "filtre"}, ["table", "filtre"]),
]


@pytest.mark.parametrize("backend", ["restore"])
def test_chain_refusals_touch_nothing(netns, run_playbook, backend):
    tasks = [load_task("load", {fam: BASE for fam in FAMILIES})]
    tasks += [mtask("chain", name, {**args, "backend": backend}) for name, args, _w in BAD]
    tasks.append(mtask("chain", "delete while jumped to, check mode", BAD[0][1], _check_mode=True))
    tasks.append(save_task("after"))
    res = by_name(run_playbook(netns, tasks))
    errors = []
    for name, _args, words in BAD:
        try:
            check_failed(res, name, words)
        except AssertionError as e:
            errors.append(str(e))
    try:
        check_failed(res, "delete while jumped to, check mode", BAD[0][2])
    except AssertionError as e:
        errors.append(str(e))
    assert recorded(res["after"]) == recorded(res["load"]), "a refused task changed the host"
    assert not errors, "\n".join(errors)
