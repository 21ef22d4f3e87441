"""Planning: what each state does to the host's tables, its idempotence, the exact
transition lines (checked against the kernel in a namespace), and the SSH guard."""

from __future__ import annotations

import ipaddress
import random

import pytest
from _kernel import VARIANTS, namespace, needs_kernel

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._eval import guard as G
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGNORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import states as STATES
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

BOTH = ("ipv4", "ipv6")


def table(text, name="filter"):
    """A filter table from the rule lines of a save dump (built-in chains implied)."""
    head = ["*%s" % name, ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    body = [line.strip() for line in text.strip().splitlines() if line.strip()]
    decl = [line for line in body if line.startswith(":")]
    rules = [line for line in body if not line.startswith(":")]
    heads = {line.split()[0] for line in decl}
    head = [h for h in head if h.split()[0] not in heads]
    return SAVE.parse_save("\n".join(head + decl + rules + ["COMMIT", ""]))[name]


def desired_of(chains, families=("ipv4",), tname="filter"):
    return CONFIG.compile_config([{"table": tname, "chains": chains}], families)


def plan1(current, chains, state, ignore=(), family="ipv4"):
    desired = desired_of(chains, (family,))
    return STATES.plan_table(
        family, current, desired[(family, "filter")], state, IGNORE.Ignore(list(ignore))
    )


def lines(plan):
    """A plan's operations as iptables-restore lines."""
    return RESTORE.render_ops(plan.ops)


def lines_of(tbl, chain):
    return [TOK.render_tokens(r.tokens) for r in tbl.chains[chain].rules]


def shape(tbl):
    return {n: (c.policy, [r.tokens for r in c.rules]) for n, c in tbl.chains.items()}


def assert_idempotent(current, chains, state, ignore=()):
    first = plan1(current, chains, state, ignore)
    again = plan1(first.after, chains, state, ignore)
    assert lines(again) == [], "second run changes: %r" % lines(again)
    assert shape(again.after) == shape(first.after)
    return first


R_A = {"name": "a", "protocol": "tcp", "destination_port": 22, "jump": "ACCEPT"}
R_B = {"name": "b", "protocol": "tcp", "destination_port": 80, "jump": "ACCEPT"}
R_C = {"name": "c", "protocol": "tcp", "destination_port": 443, "jump": "ACCEPT"}
R_D = {"name": "d", "protocol": "udp", "destination_port": 53, "jump": "ACCEPT"}
L_A = '-p tcp -m tcp --dport 22 -m comment --comment "hostfw:a" -j ACCEPT'
L_B = '-p tcp -m tcp --dport 80 -m comment --comment "hostfw:b" -j ACCEPT'
L_C = '-p tcp -m tcp --dport 443 -m comment --comment "hostfw:c" -j ACCEPT'
L_D = '-p udp -m udp --dport 53 -m comment --comment "hostfw:d" -j ACCEPT'
FOREIGN = "-s 203.0.113.9/32 -j DROP"


# ------------------------------------------------------------------ merged


def test_merged_adds_missing_after_predecessor_and_keeps_foreign_in_the_middle():
    cur = table("-A INPUT %s\n-A INPUT %s\n-A INPUT %s" % (L_A, FOREIGN, L_C))
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B, R_C, R_D]}], "merged")
    assert lines_of(p.after, "INPUT") == [L_A, L_B, FOREIGN, L_C, L_D]
    assert lines(p) == ["-I INPUT 2 %s" % L_B, "-A INPUT %s" % L_D]
    assert not any(line.startswith(("-D", "-R")) for line in lines(p))


def test_merged_missing_first_rule_goes_before_the_first_present():
    cur = table("-A INPUT %s\n-A INPUT %s" % (FOREIGN, L_B))
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B]}], "merged")
    assert lines_of(p.after, "INPUT") == [FOREIGN, L_A, L_B]
    assert lines(p) == ["-I INPUT 2 %s" % L_A]


def test_merged_never_moves_existing_rules():
    cur = table("-A INPUT %s\n-A INPUT %s" % (L_B, L_A))
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B]}], "merged")
    assert lines(p) == []
    assert lines_of(p.after, "INPUT") == [L_B, L_A]


def test_merged_changed_named_rule_is_one_replace():
    cur = table("-A INPUT %s\n-A INPUT %s\n-A INPUT %s" % (FOREIGN, L_A, L_B))
    changed = dict(R_A, destination_port=2222)
    p = plan1(cur, [{"name": "INPUT", "rules": [changed, R_B]}], "merged")
    want = '-p tcp -m tcp --dport 2222 -m comment --comment "hostfw:a" -j ACCEPT'
    assert lines(p) == ["-D INPUT %s" % L_A, "-I INPUT 2 %s" % want]
    assert lines_of(p.after, "INPUT") == [FOREIGN, want, L_B]


def test_merged_creates_listed_chain_and_policy():
    cur = table("")
    p = plan1(
        cur, [{"name": "INPUT", "policy": "DROP"}, {"name": "HOSTFW-WEB", "rules": [R_B]}], "merged"
    )
    assert lines(p)[0] == "-N HOSTFW-WEB"
    assert "-A HOSTFW-WEB %s" % L_B in lines(p) and lines(p)[-1] == "-P INPUT DROP"
    assert p.after.chains["INPUT"].policy == "DROP"


def test_merged_unnamed_rules_are_matched_by_tokens():
    cur = table("-A INPUT -i lo -j ACCEPT")
    p = plan1(
        cur,
        [
            {
                "name": "INPUT",
                "rules": [
                    {"in_interface": "lo", "jump": "ACCEPT"},
                    {"in_interface": "lo", "jump": "LOG"},
                ],
            }
        ],
        "merged",
    )
    assert lines(p) == ["-A INPUT -i lo -j LOG"]


# ------------------------------------------------------------------ replaced


def test_replaced_removes_foreign_in_listed_chain_only():
    cur = table(
        """
        -A INPUT %s
        -A INPUT %s
        -A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
        -A FORWARD %s
        :f2b-sshd - [0:0]
        -A f2b-sshd -j RETURN
        """
        % (FOREIGN, L_A, FOREIGN)
    )
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B]}], "replaced", ignore=["^f2b-"])
    # the ignored jump stays right after the rule of ours it followed
    assert lines_of(p.after, "INPUT") == [L_A, "-p tcp -m multiport --dports 22 -j f2b-sshd", L_B]
    assert lines_of(p.after, "FORWARD") == [FOREIGN]
    assert lines_of(p.after, "f2b-sshd") == ["-j RETURN"]
    assert not any(" FORWARD " in line or "f2b-sshd" in line.split()[1] for line in lines(p))


@pytest.mark.parametrize(
    ("current", "want"),
    [
        # no rule of ours before it: it stays at the top
        (["J", "A"], ["J", "A", "B"]),
        # after A, before B: stays after A, also when B is new
        (["A", "J"], ["A", "J", "B"]),
        (["A", "J", "B"], ["A", "J", "B"]),
        # X is no longer wanted: J follows the last wanted rule before it (A)
        (["A", "X", "J"], ["A", "J", "B"]),
        # two ignored rules keep their order
        (["A", "J", "K", "B"], ["A", "J", "K", "B"]),
        (["K", "A", "J"], ["K", "A", "J", "B"]),
    ],
)
def test_replaced_keeps_ignored_rules_in_place(current, want):
    """replaced with ignore: an ignored rule stays after the wanted rule it follows now."""
    text = {
        "A": L_A,
        "B": L_B,
        "X": "-p tcp -m tcp --dport 7 -m comment --comment hostfw:x -j ACCEPT",
        "J": "-p tcp -m tcp --dport 80 -m comment --comment hostfw:web-jump -j HOSTFW-WEB",
        "K": "-p tcp -m tcp --dport 5432 -m comment --comment hostfw:db-jump -j HOSTFW-DB",
    }
    cur = table(
        ":HOSTFW-WEB - [0:0]\n:HOSTFW-DB - [0:0]\n"
        + "\n".join("-A INPUT %s" % text[k] for k in current)
    )
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, R_B]}], "replaced", ignore=["^HOSTFW-"])
    assert lines_of(p.after, "INPUT") == [
        TOK.render_tokens(tuple(TOK.tokenize(text[k]))) for k in want
    ]
    again = plan1(
        p.after, [{"name": "INPUT", "rules": [R_A, R_B]}], "replaced", ignore=["^HOSTFW-"]
    )
    assert lines(again) == []


def test_replaced_ignored_rule_that_is_also_wanted_is_not_doubled():
    jump = {"name": "to-f2b", "protocol": "tcp", "destination_port": 22, "jump": "f2b-sshd"}
    cur = table(":f2b-sshd - [0:0]\n")
    p = plan1(cur, [{"name": "INPUT", "rules": [R_A, jump]}], "replaced", ignore=["^f2b-"])
    again = plan1(p.after, [{"name": "INPUT", "rules": [R_A, jump]}], "replaced", ignore=["^f2b-"])
    assert len(p.after.chains["INPUT"].rules) == 2
    assert lines(again) == []


def test_replaced_sets_exactly_the_listed_policy():
    cur = table("")
    cur.chains["INPUT"].policy = "DROP"
    p = plan1(cur, [{"name": "INPUT", "policy": "ACCEPT", "rules": []}], "replaced")
    assert lines(p) == ["-P INPUT ACCEPT"]


# ------------------------------------------------------------------ overridden


def overridden_current():
    cur = table(
        """
        :OLD - [0:0]
        :DOCKER - [0:0]
        :HELPER - [0:0]
        -A INPUT %s
        -A INPUT -j OLD
        -A FORWARD -j DOCKER
        -A FORWARD %s
        -A OLD -j DROP
        -A DOCKER -j HELPER
        -A HELPER -j RETURN
        """
        % (FOREIGN, FOREIGN)
    )
    cur.chains["FORWARD"].policy = "DROP"
    return cur


def test_overridden_deletes_unlisted_chains_and_resets_policies():
    p = plan1(
        overridden_current(),
        [{"name": "INPUT", "policy": "DROP", "rules": [R_A]}],
        "overridden",
        ignore=["^DOCKER"],
    )
    after = p.after
    assert "OLD" not in after.chains
    assert after.chains["FORWARD"].policy == "ACCEPT"
    assert lines_of(after, "FORWARD") == ["-j DOCKER"]
    assert lines_of(after, "INPUT") == [L_A]
    assert after.chains["INPUT"].policy == "DROP"
    assert lines_of(after, "DOCKER") == ["-j HELPER"]
    assert "HELPER" in after.chains
    assert any("HELPER" in w for w in p.warnings)
    assert "-F OLD" in lines(p) and "-X OLD" in lines(p)
    assert lines(p).index("-F OLD") < lines(p).index("-X OLD")
    assert not any(line.split()[1] == "DOCKER" for line in lines(p))


def test_overridden_keeps_chain_jumped_to_by_ignored_rule_intact():
    """HELPER is not matched by ignore, but an ignored rule jumps to it: the plan
    keeps it (with a warning), and a kept chain keeps its rules - emptying it would
    break what the ignored rules rely on."""
    p = plan1(
        overridden_current(), [{"name": "INPUT", "rules": [R_A]}], "overridden", ignore=["^DOCKER"]
    )
    assert lines_of(p.after, "HELPER") == ["-j RETURN"]
    assert not any(line.split()[1] == "HELPER" for line in lines(p)), lines(p)


def test_overridden_unlisted_builtin_chain_is_emptied():
    cur = table("-A OUTPUT %s" % FOREIGN)
    p = plan1(cur, [{"name": "INPUT", "rules": []}], "overridden")
    assert lines_of(p.after, "OUTPUT") == []
    assert lines(p) == ["-D OUTPUT %s" % FOREIGN]


# ------------------------------------------------------------------ deleted


def test_deleted_by_name_and_by_match():
    cur = table("-A INPUT %s\n-A INPUT %s\n-A INPUT -i lo -j ACCEPT\n-A INPUT %s" % (L_A, L_B, L_C))
    p = plan1(
        cur,
        [
            {
                "name": "INPUT",
                "rules": [{"name": "b", "jump": "DROP"}, {"in_interface": "lo", "jump": "ACCEPT"}],
            }
        ],
        "deleted",
    )
    # the name alone identifies our rule, whatever its options are now
    assert lines_of(p.after, "INPUT") == [L_A, L_C]
    assert lines(p) == ["-D INPUT %s" % L_B, "-D INPUT -i lo -j ACCEPT"]


def test_deleted_chain_removes_jumps_to_it():
    cur = table(
        """
        :HOSTFW-WEB - [0:0]
        -A INPUT %s
        -A INPUT -j HOSTFW-WEB
        -A FORWARD -g HOSTFW-WEB
        -A HOSTFW-WEB %s
        """
        % (L_A, L_B)
    )
    p = plan1(cur, [{"name": "HOSTFW-WEB"}], "deleted")
    assert "HOSTFW-WEB" not in p.after.chains
    assert lines_of(p.after, "INPUT") == [L_A]
    assert lines_of(p.after, "FORWARD") == []
    assert lines(p)[-2:] == ["-F HOSTFW-WEB", "-X HOSTFW-WEB"]


def test_deleted_chain_jumped_to_by_ignored_rule_is_an_error():
    cur = table(":HOSTFW-WEB - [0:0]\n:DOCKER - [0:0]\n-A DOCKER -j HOSTFW-WEB")
    with pytest.raises(RuleError, match="HOSTFW-WEB"):
        plan1(cur, [{"name": "HOSTFW-WEB"}], "deleted", ignore=["^DOCKER"])


def test_deleted_missing_rule_changes_nothing():
    cur = table("-A INPUT %s" % L_A)
    p = plan1(cur, [{"name": "INPUT", "rules": [R_B]}, {"name": "NOPE"}], "deleted")
    assert lines(p) == []


def test_deleted_everything_keeps_ignored():
    cur = table(":f2b-sshd - [0:0]\n-A INPUT %s\n-A INPUT -j f2b-sshd\n-A f2b-sshd -j RETURN" % L_A)
    (p,) = STATES.plan(
        {"ipv4": {"filter": cur}}, {}, "deleted", IGNORE.Ignore(["^f2b-"]), ("ipv4",)
    )
    assert lines_of(p.after, "INPUT") == ["-j f2b-sshd"]
    assert "f2b-sshd" in p.after.chains


# ------------------------------------------------------------------ targets


def test_jump_to_missing_chain_is_an_error():
    with pytest.raises(RuleError) as exc:
        plan1(table(""), [{"name": "INPUT", "rules": [{"name": "x", "jump": "NOPE"}]}], "merged")
    msg = str(exc.value)
    assert "NOPE" in msg and "chain INPUT" in msg and "'x'" in msg and "key 'jump'" in msg


def test_goto_to_missing_chain_is_an_error():
    with pytest.raises(RuleError, match="key 'goto'"):
        plan1(table(""), [{"name": "INPUT", "rules": [{"goto": "NOPE"}]}], "replaced")


def test_jump_to_chain_listed_in_config_is_fine():
    p = plan1(
        table(""),
        [{"name": "INPUT", "rules": [{"jump": "HOSTFW-X"}]}, {"name": "HOSTFW-X", "rules": []}],
        "merged",
    )
    assert lines(p) == ["-N HOSTFW-X", "-A INPUT -j HOSTFW-X"]


def test_jump_to_existing_host_chain_is_fine_in_merged():
    cur = table(":EXISTING - [0:0]")
    p = plan1(cur, [{"name": "INPUT", "rules": [{"jump": "EXISTING"}]}], "merged")
    assert lines(p) == ["-A INPUT -j EXISTING"]


# ------------------------------------------------------------------ idempotence


IDEM_CHAINS = [
    {"name": "INPUT", "policy": "DROP", "rules": [R_A, {"jump": "HOSTFW-WEB"}, R_C]},
    {"name": "HOSTFW-WEB", "rules": [R_B, R_D, {"jump": "RETURN"}]},
]


@pytest.mark.parametrize("state", ["merged", "replaced", "overridden", "deleted"])
@pytest.mark.parametrize("start", ["empty", "busy"])
def test_each_state_is_idempotent(state, start):
    cur = table("") if start == "empty" else overridden_current()
    if start == "busy":
        cur.chains["INPUT"].rules.append(RULE.rule_from_tokens(tuple(TOK.tokenize(L_C))))
    assert_idempotent(cur, IDEM_CHAINS, state, ignore=["^DOCKER"])


def test_plan_over_both_families_and_render_config():
    config = [{"table": "filter", "chains": IDEM_CHAINS}]
    desired = CONFIG.compile_config(config, BOTH)
    plans = STATES.plan({}, desired, "overridden", IGNORE.Ignore([]), BOTH)
    assert sorted(p.family for p in plans) == ["ipv4", "ipv6"]
    current = {p.family: {"filter": p.after} for p in plans}
    again = STATES.plan(current, desired, "overridden", IGNORE.Ignore([]), BOTH)
    assert all(lines(p) == [] for p in again)
    rendered = STATES.render_config(desired)
    for p in plans:
        parsed = SAVE.parse_save(rendered[p.family])["filter"]
        assert shape(parsed) == shape(p.after)


def test_restore_text_is_one_transaction():
    p = plan1(table(""), [{"name": "INPUT", "rules": [R_A]}], "merged")
    assert RESTORE.restore_text([p]) == "*filter\n-A INPUT %s\nCOMMIT\n" % TOK.render_tokens(
        tuple(TOK.tokenize(L_A))
    )
    assert p.changed


# ------------------------------------------------------------------ transition


POOL = [
    L_A,
    L_B,
    L_C,
    L_D,
    FOREIGN,
    "-s 192.0.2.0/24 -j ACCEPT",
    "-p udp",
    "-j RETURN",
    '-m comment --comment "hand made" -j DROP',
]


def random_table(rng):
    t = SAVE.Table.empty("filter")
    for name in ("INPUT", "FORWARD", "OUTPUT"):
        t.chains[name].policy = rng.choice(["ACCEPT", "DROP"])
    for name in rng.sample(["U1", "U2", "U3"], rng.randint(0, 3)):
        t.chains[name] = SAVE.Chain(name)
    for ch in t.chains.values():
        for _i in range(rng.randint(0, 5)):
            line = rng.choice(POOL)
            ch.rules.append(RULE.rule_from_tokens(tuple(TOK.tokenize(line))))
        users = [n for n in t.chains if n.startswith("U") and n != ch.name]
        if users and rng.random() < 0.4 and ch.builtin:
            ch.rules.insert(
                rng.randint(0, len(ch.rules)), RULE.rule_from_tokens(("-j", rng.choice(users)))
            )
    return t


def transition_pairs():
    rng = random.Random(20240601)
    pairs = []
    for _i in range(24):
        pairs.append((random_table(rng), random_table(rng)))
    # hand-made: reorder, replace in the middle, delete a chain that is jumped to
    a = table(":U1 - [0:0]\n-A INPUT %s\n-A INPUT %s\n-A INPUT -j U1\n-A U1 %s" % (L_A, L_B, L_C))
    b = table("-A INPUT %s\n-A INPUT %s\n-A INPUT %s" % (L_B, L_D, L_A))
    pairs += [(a, b), (b, a), (a, a)]
    return pairs


PAIRS = transition_pairs()


def test_transition_pure_round_trip():
    """Applying the lines to the model table (a small interpreter) gives `after`."""
    for a, b in PAIRS:
        t = apply_lines(a.copy(), RESTORE.render_ops(OPS.transition(a, b)))
        assert shape(t) == shape(b)
        assert OPS.transition(b, b) == []


def apply_lines(t, lines):
    for line in lines:
        words = TOK.tokenize(line)
        op, chain = words[0], words[1]
        if op == "-N":
            t.chains[chain] = SAVE.Chain(chain)
        elif op == "-X":
            del t.chains[chain]
        elif op == "-F":
            t.chains[chain].rules = []
        elif op == "-P":
            t.chains[chain].policy = words[2]
        elif op == "-D":  # by specification: the first rule that has it
            rules = t.chains[chain].rules
            spec = tuple(words[2:])
            del rules[[r.tokens for r in rules].index(spec)]
        elif op == "-A":
            t.chains[chain].rules.append(RULE.rule_from_tokens(tuple(words[2:])))
        elif op == "-I":
            t.chains[chain].rules.insert(int(words[2]) - 1, RULE.rule_from_tokens(tuple(words[3:])))
        else:
            raise AssertionError("unexpected line %r" % line)
    return t


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
def test_transition_in_the_kernel(variant):
    with namespace() as ns:
        for n, (a, b) in enumerate(PAIRS):
            # a full restore replaces the table, user chains of earlier pairs included
            ns.restore(variant, "ipv4", SAVE.render_table(a), noflush=False)
            start = SAVE.parse_save(ns.save(variant, "ipv4", "filter"))["filter"]
            assert shape(start) == shape(a)
            text = RESTORE.render_ops(OPS.transition(a, b))
            if text:
                ns.restore(variant, "ipv4", "*filter\n%s\nCOMMIT\n" % "\n".join(text))
            got = SAVE.parse_save(ns.save(variant, "ipv4", "filter"))["filter"]
            assert shape(got) == shape(b), "pair %d: %r" % (n, text)


# ------------------------------------------------------------------ guard


CONN = G.parse_ssh_connection("192.0.2.2 50022 192.0.2.1 22")


def guard(rules_text, policy="DROP", family="ipv4", conn=CONN):
    t = table(rules_text)
    t.chains["INPUT"].policy = policy
    return G.check(t, family, conn)


def test_parse_ssh_connection():
    assert (
        "ipv4",
        ipaddress.ip_address("192.0.2.2"),
        ipaddress.ip_address("192.0.2.1"),
        22,
    ) == CONN
    fam, client, server, port = G.parse_ssh_connection("::ffff:192.0.2.2 1 ::ffff:192.0.2.1 2222")
    assert (fam, str(client), str(server), port) == ("ipv4", "192.0.2.2", "192.0.2.1", 2222)
    fam, client, _s, _p = G.parse_ssh_connection("fe80::2%eth0 1 fe80::1%eth0 22")
    assert fam == "ipv6" and str(client) == "fe80::2"
    assert G.parse_ssh_connection("") is None
    assert G.parse_ssh_connection("nonsense here") is None
    assert G.parse_ssh_connection(None) is None


@pytest.mark.parametrize(
    "rules_text, policy, expected",
    [
        ("", "DROP", (True, True)),
        ("", "ACCEPT", (False, False)),
        ("-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j ACCEPT", "DROP", (False, False)),
        ("-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j ACCEPT", "DROP", (True, True)),
        ("-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT", "DROP", (True, True)),
        ("-A INPUT -p udp -m udp --dport 22 -j ACCEPT", "DROP", (True, True)),
        ("-A INPUT -i eth0 -p tcp -m tcp --dport 22 -j ACCEPT", "DROP", (False, True)),
        ("-A INPUT -p tcp -m multiport --dports 80,20:30 -j ACCEPT", "DROP", (False, False)),
        ("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "DROP", (True, True)),
        ("-A INPUT -m conntrack --ctstate NEW -j ACCEPT", "DROP", (False, False)),
        (
            "-A INPUT -s 192.0.2.0/24 -j REJECT --reject-with icmp-port-unreachable\n"
            "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
            "DROP",
            (True, True),
        ),
        ("-A INPUT ! -s 192.0.2.0/24 -j DROP", "ACCEPT", (False, False)),
        ("-A INPUT -j DROP", "ACCEPT", (True, True)),
        ("-A INPUT -m limit --limit 1/sec -j ACCEPT", "DROP", (False, True)),
        ("-A INPUT -m mark --mark 0x1 -j ACCEPT", "DROP", (False, True)),
        ("-A INPUT -j LOG\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "DROP", (False, False)),
        (
            ":SSH - [0:0]\n-A INPUT -j SSH\n-A SSH -p tcp -m tcp --dport 22 -j ACCEPT",
            "DROP",
            (False, False),
        ),
        (
            ":SSH - [0:0]\n-A INPUT -j SSH\n-A SSH -j RETURN\n-A SSH -p tcp -j ACCEPT",
            "DROP",
            (True, True),
        ),
        (":SSH - [0:0]\n-A INPUT -g SSH\n-A INPUT -j ACCEPT", "DROP", (True, True)),
        ("-A INPUT -m iprange --src-range 192.0.2.1-192.0.2.9 -j ACCEPT", "DROP", (False, False)),
        ("-A INPUT -p icmp -j ACCEPT", "DROP", (True, True)),
        # non-terminating targets: the packet goes on to the next rule
        (
            "-A INPUT -j CONNMARK --set-xmark 0x1/0xffffffff\n"
            "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
            "DROP",
            (False, False),
        ),
    ],
    ids=[
        "drop-policy-no-rules",
        "accept-policy-no-rules",
        "ssh-accepted-from-client-net",
        "ssh-accepted-from-other-net",
        "other-port",
        "udp-22",
        "interface-match-is-possible",
        "multiport-range",
        "established-only",
        "ctstate-new",
        "reject-before-accept",
        "negated-source-drop",
        "drop-all-accept-policy",
        "limit-is-possible",
        "foreign-raw-is-possible",
        "log-then-accept",
        "user-chain-accepts",
        "user-chain-returns-first",
        "goto-empty-chain",
        "iprange",
        "icmp-only",
        "connmark-is-non-terminating",
    ],
)
def test_guard(rules_text, policy, expected):
    assert guard(rules_text, policy) == expected


def test_guard_other_family_is_not_judged():
    assert guard("", "DROP", family="ipv6") == (False, False)


def test_guard_ipv6_connection():
    conn = G.parse_ssh_connection("2001:db8::2 5000 2001:db8::1 22")
    ok = "-A INPUT -s 2001:db8::/64 -p tcp -m tcp --dport 22 -j ACCEPT"
    assert guard(ok, "DROP", family="ipv6", conn=conn) == (False, False)
    assert guard("", "DROP", family="ipv6", conn=conn) == (True, True)


def test_guard_on_planned_table():
    """The guard judges plan.after: a DROP policy planned without an SSH rule."""
    p = plan1(table(""), [{"name": "INPUT", "policy": "DROP", "rules": [R_B]}], "overridden")
    assert G.check(p.after, "ipv4", CONN) == (True, True)
    p = plan1(
        table(""),
        [{"name": "INPUT", "policy": "DROP", "rules": [dict(R_A, source="192.0.2.0/24")]}],
        "overridden",
    )
    assert G.check(p.after, "ipv4", CONN) == (False, False)
