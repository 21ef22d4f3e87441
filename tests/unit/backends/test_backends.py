"""The backends with an injected command runner (fake run/which recording argv
and stdin) and, for python-iptables, a fake iptc module recording the libiptc
calls: what each renders from the typed operations, and how a rejected
transaction is named by the operation of its failing line."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import base as BASE
from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import iptc as IPTC
from ansible_collections.hostfw.netfilter.plugins.module_utils._backends import restore as RESTORE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import (
    rule_from_tokens,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS

WEB = '-p tcp -m tcp --dport 80 -m comment --comment "hostfw:web" -j ACCEPT'
SSH = "-p tcp -m tcp --dport 22 -j ACCEPT"
OLD = '-p tcp -m tcp --dport 8080 -m comment --comment "hostfw:web" -j ACCEPT'


def rule(line):
    return rule_from_tokens(tuple(TOK.tokenize(line)))


class Runner:
    """run/which of a host with the given tools; each run returns the next answer."""

    def __init__(self, tools, answers=()):
        self.tools = set(tools)
        self.answers = list(answers)
        self.calls = []

    def which(self, name):
        return "/usr/sbin/" + name if name in self.tools else None

    def run(self, argv, data=None):
        self.calls.append((argv, data))
        return self.answers.pop(0) if self.answers else (0, "", "")


def a_plan(name="filter"):
    """INPUT [SSH, OLD] -> [SSH, WEB] plus a new chain and a policy."""
    before = SAVE.Table.empty(name)
    before.chains["INPUT"].rules = [rule(SSH), rule(OLD)]
    after = before.copy()
    after.chains["INPUT"].rules = [rule(WEB), rule(SSH)]
    after.chains["INPUT"].policy = "DROP"
    after.chains["HOSTFW-X"] = SAVE.Chain("HOSTFW-X", None, [rule("-j RETURN")])
    return OPS.plan_of("ipv4", before, after)


TRANSACTION = [
    "*filter",
    "-N HOSTFW-X",
    "-D INPUT %s" % OLD,
    "-I INPUT 1 %s" % WEB,
    "-A HOSTFW-X -j RETURN",
    "-P INPUT DROP",
    "COMMIT",
]


# ------------------------------------------------------------------ base


def test_detect_variant_and_tools():
    r = Runner(
        ["iptables", "iptables-nft-restore", "ip6tables-restore"], [(0, "v1.8.9 (nf_tables)", "")]
    )
    assert BASE.detect_variant(r.run, r.which) == "nf_tables"
    assert r.calls == [(["/usr/sbin/iptables", "-V"], None)]
    assert BASE.tool(r.which, "ipv4", "nf_tables", "restore") == "/usr/sbin/iptables-nft-restore"
    assert BASE.tool(r.which, "ipv6", "nf_tables", "restore") == "/usr/sbin/ip6tables-restore"
    with pytest.raises(BASE.BackendError, match="ip6tables-save is not installed"):
        BASE.tool(r.which, "ipv6", "legacy", "save")
    legacy = Runner(["iptables"], [(0, "iptables v1.8.9 (legacy)", "")])
    assert BASE.detect_variant(legacy.run, legacy.which) == "legacy"
    with pytest.raises(BASE.BackendError, match="not installed"):
        BASE.detect_variant(Runner([]).run, Runner([]).which)


# ------------------------------------------------------------------ restore


def test_restore_renders_one_transaction_with_the_framing_once():
    assert RESTORE.transaction([a_plan()])[0] == TRANSACTION
    assert RESTORE.restore_text([a_plan()]) == "\n".join(TRANSACTION) + "\n"
    assert RESTORE.restore_text([OPS.plan_of("ipv4", a_plan().before, a_plan().before)]) == ""


def test_restore_apply_argv_and_stdin():
    r = Runner(["iptables-legacy-restore"])
    backend = RESTORE.RestoreBackend(r.run, r.which, "legacy", wait=5)
    backend.apply("ipv4", [a_plan(), a_plan("nat")])
    ((argv, data),) = r.calls
    assert argv == ["/usr/sbin/iptables-legacy-restore", "-w", "5", "--noflush"]
    assert data.splitlines() == TRANSACTION + ["*nat"] + TRANSACTION[1:]
    r.calls.clear()
    RESTORE.RestoreBackend(r.run, r.which, "legacy").apply("ipv4", [])
    assert r.calls == []


@pytest.mark.parametrize(
    ("stderr", "where"),
    [
        # nf_tables and legacy word their line numbers differently
        (
            "iptables-restore: line 4 failed",
            "at `-I INPUT 1 %s` (rule 'web', chain INPUT, table filter)" % WEB,
        ),
        (
            "Error occurred at line: 3",
            "at `-D INPUT %s` (rule 'web', chain INPUT, table filter)" % OLD,
        ),
        ("line 2: chain exists", "at `-N HOSTFW-X` (chain HOSTFW-X, table filter)"),
        ("Error occurred at line: 7", "at the commit of table filter"),
        ("Error occurred at line: 8", "at `*nat` (table nat)"),
    ],
)
def test_restore_error_names_the_operation_of_the_failing_line(stderr, where):
    r = Runner(["iptables-nft-restore"], [(1, "", stderr)])
    backend = RESTORE.RestoreBackend(r.run, r.which, "nf_tables")
    with pytest.raises(BASE.BackendError) as e:
        backend.apply("ipv4", [a_plan(), a_plan("nat")])
    msg = str(e.value)
    assert msg.startswith("iptables-restore rejected the ipv4 transaction, which was not applied")
    assert where in msg and stderr in msg


def test_restore_read_and_foreign_rules():
    r = Runner(
        ["ip6tables-nft-save", "ip6tables-legacy-save"],
        [(0, "*filter\nCOMMIT\n", ""), (0, "*filter\n-A INPUT -j DROP\nCOMMIT\n", "")],
    )
    backend = RESTORE.RestoreBackend(r.run, r.which, "nf_tables")
    assert backend.read("ipv6", counters=True) == "*filter\nCOMMIT\n"
    assert backend.foreign_rules("ipv6") is True
    assert [c[0] for c in r.calls] == [
        ["/usr/sbin/ip6tables-nft-save", "-c"],
        ["/usr/sbin/ip6tables-legacy-save"],
    ]
    failing = Runner(["iptables-nft-save"], [(1, "", "no such table")])
    with pytest.raises(BASE.BackendError, match="iptables-save failed: no such table"):
        RESTORE.RestoreBackend(failing.run, failing.which, "nf_tables").read("ipv4")


# ------------------------------------------------------------------ python-iptables


class FakeIptc:
    """Just enough of python-iptables: records every libiptc-level call."""

    class IPTCError(Exception):
        pass

    class XTablesError(Exception):
        pass

    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on
        fake = self

        class Ext:
            def __init__(self, rule, name):
                self.rule, self.name = rule, name

            def set_parameter(self, key, value):
                self.rule.words.append("--%s=%s" % (key, value))

        class Rule:
            def __init__(self):
                self.words = []

            def __setattr__(self, key, value):
                if key in ("src", "dst", "protocol", "in_interface", "out_interface"):
                    self.words.append("%s=%s" % (key, value))
                object.__setattr__(self, key, value)

            def create_match(self, name):
                self.words.append("m:" + name)
                return Ext(self, name)

            def create_target(self, name):
                self.words.append("j:" + name)
                return Ext(self, name)

            def text(self):
                return " ".join(self.words)

        class Rule6(Rule):
            pass

        class Table:
            def __init__(self, name):
                self.name = name
                fake.calls.append(("table", name))

            def refresh(self):
                fake.calls.append(("refresh", self.name))

            def commit(self):
                fake.calls.append(("commit", self.name))

            def close(self):
                fake.calls.append(("close", self.name))

            def create_chain(self, chain):
                fake.calls.append(("create_chain", chain))

            def delete_chain(self, chain):
                fake.calls.append(("delete_chain", chain))

            def flush_entries(self, chain):
                fake.calls.append(("flush_entries", chain))

            def set_policy(self, chain, policy):
                fake.calls.append(("set_policy", chain, policy))

        class Chain:
            def __init__(self, table, name):
                self.name = name

            def _call(self, what, rule, *index):
                if fake.fail_on == what:
                    raise fake.IPTCError("can't %s" % what)
                fake.calls.append((what, self.name, rule.text(), *index))

            def delete_rule(self, rule):
                self._call("delete_rule", rule)

            def insert_rule(self, rule, position=0):
                self._call("insert_rule", rule, position)

            def append_rule(self, rule):
                self._call("append_rule", rule)

        self.Rule, self.Rule6, self.Table, self.Table6, self.Chain = (
            Rule,
            Rule6,
            Table,
            Table,
            Chain,
        )


def iptc_backend(fake):
    r = Runner(["iptables-legacy-save"])
    return IPTC.IptcBackend(fake, r.run, r.which, "legacy")


def test_iptc_renders_operations_to_libiptc_calls():
    fake = FakeIptc()
    iptc_backend(fake).apply("ipv4", [a_plan()])
    web = "protocol=6 m:tcp --dport=80 m:comment --comment=hostfw:web j:ACCEPT"
    old = "protocol=6 m:tcp --dport=8080 m:comment --comment=hostfw:web j:ACCEPT"
    assert fake.calls == [
        ("table", "filter"),
        ("refresh", "filter"),
        ("create_chain", "HOSTFW-X"),
        ("delete_rule", "INPUT", old),  # by specification, never by index
        ("insert_rule", "INPUT", web, 0),
        ("append_rule", "HOSTFW-X", "j:RETURN"),
        ("set_policy", "INPUT", "DROP"),
        ("commit", "filter"),
        ("refresh", "filter"),
        ("close", "filter"),
    ]


def test_iptc_flush_and_delete_chain():
    before = SAVE.Table.empty("filter")
    before.chains["OLD"] = SAVE.Chain("OLD", None, [rule("-j RETURN")])
    after = SAVE.Table.empty("filter")
    fake = FakeIptc()
    iptc_backend(fake).apply("ipv4", [OPS.plan_of("ipv4", before, after)])
    assert ("flush_entries", "OLD") in fake.calls and ("delete_chain", "OLD") in fake.calls


def test_iptc_error_names_the_rule_of_the_failing_operation():
    fake = FakeIptc(fail_on="insert_rule")
    with pytest.raises(BASE.BackendError) as e:
        iptc_backend(fake).apply("ipv4", [a_plan()])
    msg = str(e.value)
    assert "python-iptables failed on table filter (ipv4), nothing of it was committed" in msg
    assert "(rule 'web', chain INPUT, table filter)" in msg
    assert ("commit", "filter") not in fake.calls and ("close", "filter") in fake.calls


def test_iptc_refuses_nf_tables():
    with pytest.raises(BASE.BackendError, match="legacy"):
        IPTC.IptcBackend(FakeIptc(), None, None, "nf_tables")
