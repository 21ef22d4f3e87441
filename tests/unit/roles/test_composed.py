"""The roles composed through a chain's `ignored_slot` (_plan/ignore.py): the baseline
role only states its rules and the service roles' jumps, in any order of the roles,
sit before baseline-log-drop; fail2ban's ban stays at the top. Pure: each role's
task, templated from its defaults and vars, is planned on a model host; no kernel."""

from __future__ import annotations

from pathlib import Path

import jinja2
import jinja2.meta
import jinja2.nativetypes
import pytest
import yaml

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import compile_rule
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGN
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import placement as PLACE
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import states as STATES
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.operations import transition
from ansible_collections.hostfw.netfilter.tests.fixtures.saves import BAN

ROLES = Path(__file__).resolve().parents[3] / "roles"


BOTH = ("ipv4", "ipv6")


HAS_SLOT = "slot" in CONFIG.DesiredChain.__slots__
needs_slot_config = pytest.mark.skipif(
    not HAS_SLOT,
    reason="compile_config does not know the chain key ignored_slot yet "
    "(DesiredChain.slot, compile_ignored_slot; see _plan/ignore.py)",
)


def tok_rule(text):
    """A Rule from a rule as iptables-save prints it after -A CHAIN."""
    return RULE.rule_from_tokens(tuple(TOK.tokenize(text)))


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
