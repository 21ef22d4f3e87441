"""What `ignore` searches (set names of --match-set included, so fail2ban's ipset
bans survive `overridden`), and a chain's `ignored_slot`: the ignored rules it
selects are kept right in front of a named rule, so the baseline role only states
its rules and the service roles' jumps, in any order of the roles, sit before
baseline-log-drop. Pure: plans on parsed dumps, no kernel."""

from __future__ import annotations

from pathlib import Path

import jinja2
import jinja2.meta
import jinja2.nativetypes
import pytest
import yaml

# the shared fail2ban/Docker/kube-proxy save dumps and helpers of the parser tests
from test_parser import BOTH, HOST4, HOST6, IGNORE, OUR_CONFIG, anchors, is_subsequence

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import compile_rule
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGN
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import placement as PLACE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import states as STATES
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.operations import transition
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

ROLES = Path(__file__).resolve().parents[2] / "roles"

# fail2ban's iptables-ipset actions: the ban is one rule straight in INPUT, named
# only by its set (`-I INPUT ... -m set --match-set f2b-<jail> src -j REJECT`)
BAN = {
    "ipv4": "-A INPUT -p tcp -m multiport --dports 80,443 -m set --match-set "
    "f2b-nginx-http-auth src -j REJECT --reject-with icmp-port-unreachable",
    "ipv6": "-A INPUT -p tcp -m multiport --dports 80,443 -m set --match-set "
    "f2b-nginx-http-auth6 src -j REJECT --reject-with icmp6-port-unreachable",
}
FIRST_INPUT_RULE = "-A INPUT -i lo -m comment --comment hostfw:loopback -j ACCEPT"

HAS_SLOT = "slot" in CONFIG.DesiredChain.__slots__
needs_slot_config = pytest.mark.skipif(
    not HAS_SLOT,
    reason="compile_config does not know the chain key ignored_slot yet "
    "(DesiredChain.slot, compile_ignored_slot; see _plan/ignore.py)",
)


def tok_rule(text):
    """A Rule from a rule as iptables-save prints it after -A CHAIN."""
    return RULE.rule_from_tokens(tuple(TOK.tokenize(text)))


# ------------------------------------------------------------- what ignore searches


def test_rule_parts_are_exactly_comment_target_interfaces_and_set_names():
    r = tok_rule(
        "-s 192.0.2.0/24 -i eth0 ! -o br-1 -p tcp -m set --match-set s-one src "
        "-m set ! --match-set s-two dst,dst -m comment --comment c-text -j CHAIN-X"
    )
    assert IGN.rule_parts(r) == ["c-text", "CHAIN-X", "eth0", "br-1", "s-one", "s-two"]
    # addresses, ports, protocols and other options are not searched
    assert not IGN.Ignore([r"192\.0\.2", "^tcp$", "^src$", "dst"]).rule(r)


def test_a_comment_is_never_read_as_an_option():
    r = tok_rule("-m comment --comment --match-set -j ACCEPT")
    assert IGN.rule_parts(r) == ["--match-set", "ACCEPT"]


@pytest.mark.parametrize("fam", BOTH)
def test_ignore_matches_the_set_name_of_a_fail2ban_ipset_ban(fam):
    ban = tok_rule(BAN[fam].split(" ", 2)[2])
    assert ban.comment is None and ban.target == "REJECT"
    assert IGN.Ignore(["^f2b-"]).rule(ban)
    assert not IGN.Ignore(["^f2b-sshd$"]).rule(ban)


def with_ban(text, fam):
    """The shared dump with fail2ban's ipset ban inserted at the top of INPUT."""
    assert text.count(FIRST_INPUT_RULE) == 1
    return text.replace(FIRST_INPUT_RULE, BAN[fam] + "\n" + FIRST_INPUT_RULE)


def banned_host():
    return {
        "ipv4": SAVE.parse_save(with_ban(HOST4, "ipv4")),
        "ipv6": SAVE.parse_save(with_ban(HOST6, "ipv6")),
    }


@pytest.mark.parametrize("patterns", [IGNORE, ["^f2b-"]], ids=["shared-ignore", "f2b-only"])
def test_overridden_keeps_the_fail2ban_ban_where_it_is(patterns):
    current = banned_host()
    ignore = IGN.Ignore(patterns)
    desired = CONFIG.compile_config(OUR_CONFIG, BOTH)
    plans = STATES.plan(current, desired, "overridden", ignore, BOTH)
    for p in plans:
        ban = tuple(TOK.tokenize(BAN[p.family].split(" ", 2)[2]))
        before, after = p.before.chains["INPUT"].rules, p.after.chains["INPUT"].rules
        assert before[0].tokens == ban
        assert after[0].tokens == ban, p.family  # still first: nothing in front of it
        assert [r.tokens for r in after].count(ban) == 1
        wanted = {r.name for r in after if r.owned}
        assert (ban, None) in anchors(after, wanted, ignore)
        kept = [r.tokens for r in before if ignore.rule(r)]
        assert is_subsequence(kept, [r.tokens for r in after])
        again = STATES.plan_table(
            p.family, p.after, desired[(p.family, "filter")], "overridden", ignore
        )
        assert not again.changed


def test_without_set_names_overridden_would_delete_the_ban():
    """The bug the set names fix: an ignore that does not see the set removes it."""
    current = banned_host()
    desired = CONFIG.compile_config(OUR_CONFIG, BOTH)
    plans = STATES.plan(current, desired, "overridden", IGN.Ignore(["^f2b-nginx$"]), BOTH)
    for p in plans:
        ban = tuple(TOK.tokenize(BAN[p.family].split(" ", 2)[2]))
        assert ban not in [r.tokens for r in p.after.chains["INPUT"].rules]


# ------------------------------------------------------------- ignored_slot, pure


def rules4(*data):
    return [r for d in data for fam, r in compile_rule(d, ("ipv4",), "filter", "INPUT", None)]


OURS = rules4(
    {"name": "lo", "in_interface": "lo", "jump": "ACCEPT"},
    {"name": "invalid", "ctstate": ["INVALID"], "jump": "DROP"},
    {"name": "ssh", "protocol": "tcp", "destination_port": 22, "jump": "ACCEPT"},
    {"name": "log-drop", "jump": "LOG"},
)
JUMP_A = tok_rule("-m comment --comment hostfw:a-jump -j HOSTFW-A")
JUMP_B = tok_rule("-m comment --comment hostfw:b-jump -j HOSTFW-B")
F2B = tok_rule("-p tcp -m multiport --dports 22 -j f2b-sshd")
IGNORE_ALL = IGN.Ignore(["^HOSTFW-", "^f2b-"])
SLOT = IGN.IgnoredSlot(["^HOSTFW-"], "log-drop")


def names(rules):
    return [r.name or r.target for r in rules]


@pytest.mark.parametrize(
    "cur",
    [
        [JUMP_A, F2B, JUMP_B],  # a service role first, on an empty INPUT
        [F2B] + OURS[:1] + [JUMP_A] + OURS[1:] + [JUMP_B],  # after the log rule
        [F2B] + OURS[:3] + [JUMP_A, JUMP_B] + OURS[3:],  # already in the slot
        [F2B, JUMP_A] + OURS[:2] + [JUMP_B] + OURS[2:],
    ],
)
def test_slot_gathers_the_selected_rules_in_front_of_its_rule(cur):
    out = STATES._replaced_target(cur, OURS, IGNORE_ALL, SLOT)
    order = [n for n in names(cur) if n in ("a-jump", "b-jump")]
    assert names(out) == ["f2b-sshd", "lo", "invalid", "ssh", *order, "log-drop"]
    assert STATES._replaced_target(out, OURS, IGNORE_ALL, SLOT) == out


def test_slot_without_its_rule_is_the_end_of_the_chain():
    wanted = OURS[:3]
    for slot in (IGN.IgnoredSlot(["^HOSTFW-"]), SLOT):  # before None, or absent here
        out = STATES._replaced_target([JUMP_A, F2B] + wanted, wanted, IGNORE_ALL, slot)
        assert names(out) == ["f2b-sshd", "lo", "invalid", "ssh", "a-jump"]


def test_slot_selects_only_among_ignored_rules():
    hand = tok_rule("-p tcp -m tcp --dport 80 -j HOSTFW-A")  # slot matches, ignore does not
    out = STATES._replaced_target([hand] + OURS, OURS, IGN.Ignore(["^f2b-"]), SLOT)
    assert out == OURS
    # a rule the config lists is ours: placed where it is listed
    wanted = OURS[:1] + [JUMP_A] + OURS[1:]
    out = STATES._replaced_target(OURS + [JUMP_A], wanted, IGNORE_ALL, SLOT)
    assert out == wanted


def test_no_slot_keeps_the_old_placement():
    cur = [JUMP_A] + OURS
    assert STATES._replaced_target(cur, OURS, IGNORE_ALL) == cur
    assert STATES._replaced_target(cur, OURS, IGNORE_ALL, None) == cur


def test_slot_before_an_expanded_rule_is_in_front_of_its_first_kernel_rule():
    ssh = rules4(
        {
            "name": "ssh",
            "protocol": "tcp",
            "destination_port": 22,
            "source": ["192.0.2.1", "192.0.2.2"],
            "jump": "ACCEPT",
        }
    )
    out = STATES._replaced_target(
        ssh + [JUMP_A], ssh, IGNORE_ALL, IGN.IgnoredSlot("^HOSTFW-", "ssh")
    )
    assert names(out) == ["a-jump", "ssh#1", "ssh#2"]


@pytest.mark.parametrize(
    "value, message",
    [
        ("^HOSTFW-", "must be a mapping"),
        ({"before": "log-drop"}, "'match' must be"),
        ({"match": []}, "'match' must be"),
        ({"match": [1]}, "'match' must be"),
        ({"match": "(", "before": "log-drop"}, "not a valid regular expression"),
        ({"match": "x", "after": "ssh"}, "unknown key 'after'"),
        ({"match": "x", "before": "nope"}, "'before' names 'nope', which is not a rule"),
        ({"match": "x", "before": ""}, "'before' must be the name of a rule"),
    ],
)
def test_compile_ignored_slot_errors(value, message):
    with pytest.raises(RuleError, match=message) as e:
        IGN.compile_ignored_slot("table filter, chain INPUT", value, [OURS, None])
    assert str(e.value).startswith("table filter, chain INPUT: key 'ignored_slot': ")


def test_compile_ignored_slot_accepts_a_name_of_any_family():
    slot = IGN.compile_ignored_slot("w", {"match": "^H", "before": "ssh"}, [[], OURS])
    assert slot.before == "ssh" and slot.takes(JUMP_A) and not slot.takes(F2B)
    assert IGN.compile_ignored_slot("w", None, [OURS]) is None
    assert IGN.compile_ignored_slot("w", {"match": ["^H"], "before": None}, [OURS]).before is None


@needs_slot_config
def test_compile_config_carries_the_slot_and_names_errors():
    chains = [
        {
            "name": "INPUT",
            "rules": [{"name": "log-drop", "jump": "LOG"}],
            "ignored_slot": {"match": "^HOSTFW-", "before": "log-drop"},
        }
    ]
    desired = CONFIG.compile_config([{"chains": chains}], BOTH)
    for fam in BOTH:
        assert desired[(fam, "filter")]["INPUT"].slot.before == "log-drop"
    chains[0]["ignored_slot"]["before"] = "log"
    with pytest.raises(RuleError, match=r"^table filter, chain INPUT: key 'ignored_slot': "):
        CONFIG.compile_config([{"chains": chains}], BOTH)


# ------------------------------------------------------------- the roles, composed


class RoleVars:
    """A role's defaults and vars (and overrides), templated like Ansible does
    with native types: enough of Jinja for the roles of this collection."""

    env = jinja2.nativetypes.NativeEnvironment(undefined=jinja2.StrictUndefined)

    def __init__(self, role, **overrides):
        d = ROLES / role
        self.raw = {}
        for part in ("defaults", "vars"):
            self.raw.update(yaml.safe_load((d / part / "main.yml").read_text()) or {})
        self.raw.update(overrides)
        self.tasks = yaml.safe_load((d / "tasks" / "main.yml").read_text())

    def render(self, value, extra=None):
        if isinstance(value, dict):
            return {k: self.render(v, extra) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, extra) for v in value]
        if not isinstance(value, str) or "{{" not in value:
            return value
        known = dict(self.raw, **(extra or {}))
        used = jinja2.meta.find_undeclared_variables(self.env.parse(value))
        ctx = {n: self.render(known[n], extra) for n in used if n in known}
        return self.env.from_string(value).render(**ctx)

    def task(self, module, title):
        for t in self.tasks:
            if t.get("name") == title:
                return self.render(t[module], t.get("vars"))
        raise AssertionError("no task %r" % title)


def empty_host():
    return {fam: {"filter": SAVE.Table.empty("filter")} for fam in BOTH}


def apply(host, plans):
    changed = False
    for p in plans:
        changed |= p.changed
        host[p.family][p.after.name] = p.after
    return changed


def baseline(host, **overrides):
    """The baseline role's INPUT task, planned on `host` and applied to it."""
    args = RoleVars("baseline", **overrides).task("hostfw.netfilter.ruleset", "Default-deny INPUT")
    assert args["state"] == "replaced"
    desired = CONFIG.compile_config(args["config"], BOTH)
    return apply(host, STATES.plan(host, desired, "replaced", IGN.Ignore(args["ignore"]), BOTH))


def service(host, role, jump_task):
    """A service role: its chain (created empty: its rules do not matter here) and
    its INPUT jump, taken from the role's task and placed as hostfw.netfilter.rule does."""
    rv = RoleVars(role)
    jump = rv.task("hostfw.netfilter.rule", jump_task)
    chain = rv.render(rv.raw["__%s_chain" % role])
    assert jump["jump"] == chain
    changed = False
    for fam in BOTH:
        cur = host[fam]["filter"]
        after = cur.copy()
        after.chains.setdefault(chain, SAVE.Chain(chain))
        data = {"name": jump["name"], "jump": chain}
        group = [r for _f, r in compile_rule(data, (fam,), "filter", "INPUT", None)]
        placed = PLACE.place(
            after.chains["INPUT"].rules,
            group,
            jump["name"],
            "append",
            jump.get("before"),
            jump.get("after"),
        )
        after.chains["INPUT"].rules = placed.rules
        changed |= bool(transition(cur, after))
        host[fam]["filter"] = after
    return changed


def web(host):
    return service(
        host, "webserver", "INPUT jumps to HOSTFW-WEBSERVER, before the baseline's final log rule"
    )


def db(host):
    return service(
        host, "database", "INPUT jumps to HOSTFW-DATABASE, before the baseline's final log rule"
    )


def input_names(host, fam):
    return [r.name or r.target for r in host[fam]["filter"].chains["INPUT"].rules]


def assert_slot(host, jumps, log=True):
    for fam in BOTH:
        got = input_names(host, fam)
        at = [got.index(j) for j in jumps]
        assert at == sorted(at) and at == list(range(at[0], at[0] + len(jumps))), got
        if log:
            assert got[-1] == "baseline-log-drop" and at[-1] == len(got) - 2, got
        else:
            assert at[-1] == len(got) - 1, got
        assert got.index("invalid") < at[0], got
        assert any(n.startswith("ssh") for n in got[: at[0]]), got


ORDERS = {
    "baseline-web-db": (baseline, web, db),
    "web-db-baseline": (web, db, baseline),
    "web-baseline-db": (web, baseline, db),
    "db-web-baseline-baseline": (db, web, baseline, baseline),
}


@needs_slot_config
@pytest.mark.parametrize("order", ORDERS, ids=list(ORDERS))
def test_roles_converge_in_one_run_in_any_order(order):
    host = empty_host()
    for step in ORDERS[order]:
        step(host)
    jumps = [n for n in input_names(host, "ipv4") if n.endswith("-jump")]
    assert sorted(jumps) == ["database-jump", "webserver-jump"]
    assert_slot(host, jumps)
    for step in ORDERS[order]:  # the second run of the play changes nothing
        assert not step(host), step.__name__


@needs_slot_config
def test_baseline_rerun_with_new_rules_keeps_the_jumps_before_the_log_rule():
    host = empty_host()
    for step in (baseline, web, db):
        step(host)
    extra = [{"name": "metrics", "protocol": "tcp", "destination_port": 9100, "jump": "ACCEPT"}]
    more = dict(
        baseline_input_extra_rules=extra, baseline_ssh_sources=["192.0.2.1", "192.0.2.2", "::/0"]
    )
    assert baseline(host, **more)
    assert_slot(host, ["webserver-jump", "database-jump"])
    assert input_names(host, "ipv4").index("metrics") < input_names(host, "ipv4").index(
        "webserver-jump"
    )
    assert not baseline(host, **more) and not web(host) and not db(host)


@needs_slot_config
def test_fail2ban_stays_at_the_top_while_the_jumps_go_to_the_slot():
    host = empty_host()
    web(host)
    for fam in BOTH:  # fail2ban starts and inserts its ban at the top
        ban = tok_rule(BAN[fam].split(" ", 2)[2])
        host[fam]["filter"].chains["INPUT"].rules.insert(0, ban)
    baseline(host)
    for fam in BOTH:
        got = input_names(host, fam)
        assert got[0] == "REJECT" and got[1] == "loopback", got
    assert_slot(host, ["webserver-jump"])
    assert not baseline(host) and not web(host)


@needs_slot_config
def test_without_the_log_rule_the_slot_is_the_end_of_input():
    off = dict(baseline_log_dropped=False)
    host = empty_host()
    web(host)
    baseline(host, **off)
    assert_slot(host, ["webserver-jump"], log=False)
    assert not baseline(host, **off) and not web(host)
    # a service role after the baseline lands right after `invalid` (no log rule to
    # aim at); the baseline's next run moves it to the end once, then nothing moves
    db(host)
    assert baseline(host, **off)
    assert_slot(host, ["database-jump", "webserver-jump"], log=False)  # their order now
    assert not baseline(host, **off) and not web(host) and not db(host)
