"""The packet evaluator against a ruleset another tool writes (issue #12): Debian's ufw,
enabled inside the server namespace of the proof's lab (tests/fixtures/ufw_ruleset.py
says how it runs without being installed), with rules of every kind ufw has (allow,
deny, reject, limit with ``recent``, an interface, a source network, both families,
outgoing rules, logging on). Its own ``iptables-save`` is the ruleset: ufw-before-*,
ufw-user-*, ufw-not-local with ``addrtype``, LOG under ``limit``, conntrack...

Real packets are sent at it (INPUT from the client over the veth pair, OUTPUT from the
server; NEW and ESTABLISHED) with the sender and the judge of
tests/fixtures/explain_proof.py: the kernel's stop, read from the counters, must be the
rule (or policy) and verdict of every definite answer, and among the verdicts of every
"may" answer. ufw's ``recent``, ``addrtype`` and ``hl`` rules are undecidable for the
evaluator, so most answers are "may"; the figures are printed (``pytest -s``)."""

from __future__ import annotations

import ipaddress
import itertools
import os
import shutil
import tempfile
import time

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.tests.fixtures import explain_proof as EP
from ansible_collections.hostfw.netfilter.tests.fixtures import ufw_ruleset as UFW
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (
    FAMILIES,
    VARIANTS,
    needs_kernel,
)

# per family: sources (near half), local destinations, far destinations (OUTPUT)
ADDR = {
    "ipv4": {"src": "192.0.2.%d", "net": "198.51.100.%d", "banned": "192.0.2.66",
             "dst": ["192.0.2.1", "198.51.100.1"], "far": ["192.0.2.200", "198.51.100.201"]},
    "ipv6": {"src": "2001:db8::%x", "net": "2001:db8:1:5::%x", "banned": None,
             "dst": ["2001:db8::1", "2001:db8:7000::1"],
             "far": ["2001:db8:8000::20", "2001:db8:9000::21"]},
}  # fmt: skip
LIMIT_BURST = 8  # SYNs to 2222 from one source: ufw's limit rejects the 6th on


def _unavailable(why):
    """Skip on a machine without ufw's package source; in CI (which installs what
    the suite needs) a missing ufw is a failure, so the proof cannot go quiet."""
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="module")
def ufw_tree():
    workdir = tempfile.mkdtemp(prefix="hfw-ufw-")
    try:
        try:
            tree = UFW.fetch(workdir)
        except UFW.Unavailable as e:
            _unavailable("ufw cannot be fetched or run here: %s" % e)
        yield tree, workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _probes(family):
    """INPUT and OUTPUT probes aimed at the rules of COMMANDS and ufw's own before/after
    rules; every flow distinct (source and source port)."""
    a = ADDR[family]
    host = itertools.count(10)
    sport = itertools.count(30000)
    ident = itertools.count(100)
    out = []

    def add(hook, proto, dport=None, src=None, flags=("SYN",), state="NEW", sp=None, dst=0):
        src = src or a["src"] % next(host)
        dsts = a["dst"] if hook == "INPUT" else a["far"]
        if proto == "icmp":
            sp, dport, flags = None, None, ()
        elif proto == "udp":
            flags = ()
        else:
            sp = sp or next(sport)
        if proto == "udp":
            sp = sp or next(sport)
        out.append(EP.Probe(hook, proto, src, dsts[dst % len(dsts)], sp, dport, tuple(flags),
                            state, next(ident)))  # fmt: skip

    for i, port in enumerate((22, 5432, 23, 8080, 25, 53, 443, 4000, 445, 80)):
        add("INPUT", "tcp", port, dst=i)
    add("INPUT", "tcp", 22, flags=("ACK",))
    add("INPUT", "tcp", 5432, src=a["net"] % 20)
    add("INPUT", "tcp", 443, src=a["net"] % 21)
    for i, port in enumerate((23, 53, 137, 138, 5353, 9999)):
        add("INPUT", "udp", port, dst=i)
    add("INPUT", "udp", 68, sp=67)
    add("INPUT", "icmp")
    add("INPUT", "icmp", state="ESTABLISHED")
    add("INPUT", "udp", 40001, state="ESTABLISHED", sp=5001)
    if a["banned"]:
        add("INPUT", "tcp", 80, src=a["banned"])
        add("INPUT", "udp", 53, src=a["banned"], sp=5002)
    burst = a["src"] % 99
    for _i in range(LIMIT_BURST):
        add("INPUT", "tcp", 2222, src=burst)
    for i, (proto, port) in enumerate(
        [("tcp", 80), ("tcp", 6667), ("tcp", 443), ("udp", 53), ("udp", 514), ("udp", 123)]
    ):
        add("OUTPUT", proto, port, dst=i)
    add("OUTPUT", "tcp", 6667, flags=("ACK",))
    add("OUTPUT", "icmp")
    return out


def _prove(lab, family, probes, api):
    Evaluator, packet_from, _where = api
    lab.prime(family, [p for p in probes if p.state == "ESTABLISHED"])
    text = lab.save(family, "server")
    tables = SAVE.parse_save(text)
    ev = Evaluator(tables, family)
    prev = EP.counters(text)
    out = []
    for p in probes:
        lab.send(family, p)
        time.sleep(0.003)
        now = EP.counters(lab.save(family, "server"))
        k = EP.kernel_verdict(prev, now, tables["filter"], p.hook, {})
        if k.verdict is None:  # a busy machine: look once more
            time.sleep(0.1)
            now = EP.counters(lab.save(family, "server"))
            k = EP.kernel_verdict(prev, now, tables["filter"], p.hook, {})
        prev = now
        ans = ev.explain(packet_from(p.spec(family)))
        outcome = "unseen" if k.verdict is None else EP.judge(k, ans)
        out.append(EP.Result(lab.variant, family, outcome, ans["certainty"], text, p, k, ans))
    return text, out


def figures(results):
    """pairs, definite, may, agree (definite, same verdict and rule), may-ok (kernel's
    verdict among the possible ones), disagree, unseen."""
    names = ("pairs", "definite", "may", "agree", "may-ok", "may-stop-listed", "disagree", "unseen")
    f = dict.fromkeys(names, 0)
    for r in results:
        f["may-stop-listed"] += r.outcome == "may" and stop_among_outcomes(r)
        f["pairs"] += 1
        f[r.certainty] += 1
        f[{"agree": "agree", "may": "may-ok"}.get(r.outcome, r.outcome)] += 1
    return f


def _rules(text):
    return sum(len(c.rules) for c in SAVE.parse_save(text)["filter"].chains.values())


def stop_among_outcomes(r):
    """Whether the kernel's exact stop (verdict, chain, position) is one of the answer's
    outcomes: stronger than the verdict the judge asks of a "may" answer."""
    stops = {(o["verdict"], o["decided_by"]["chain"], o["decided_by"]["position"])
             for o in r.answer["outcomes"]}  # fmt: skip
    return tuple(r.kernel) in stops


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
def test_explain_agrees_with_the_kernel_on_ufw(variant, ufw_tree):
    tree, workdir = ufw_tree
    try:
        ufw = UFW.Ufw(tree, variant, workdir)
    except UFW.Unavailable as e:
        _unavailable("ufw cannot be run here: %s" % e)
    api = EP.load_api()
    lab = EP.Lab(variant)
    results, texts = [], {}
    try:
        ufw.enable(lab.ns["server"].name)
        for family in FAMILIES:
            texts[family], res = _prove(lab, family, _probes(family), api)
            results += res
    finally:
        lab.close()
    for family in FAMILIES:
        f = figures([r for r in results if r.family == family])
        print("ufw %s %s: %d rules; %s" % (variant, family, _rules(texts[family]), f))
        # the ruleset is ufw's, with the matches that make it hard
        words = ["-j ufw-user-input", "-m recent --set", "--hitcount 6", "-j LOG", "addrtype"]
        if family == "ipv6":  # ufw6- chains; no ufw-not-local (addrtype) in IPv6
            words = [w.replace("ufw-", "ufw6-") for w in words[:4]] + ["-m hl", "-m rt"]
        for word in words:
            assert word in texts[family], (variant, family, word)
    unseen = [r for r in results if r.outcome == "unseen"]
    assert not unseen, "the counters did not show the probe:\n%s" % EP.describe(unseen[0])
    bad = [r for r in results if r.outcome == "disagree"]
    assert not bad, "%d of %d disagree; the first:\n%s" % (
        len(bad),
        len(results),
        EP.describe(bad[0]),
    )
    # stronger than the judge: a "may" answer lists the kernel's very rule among its outcomes
    vague = [r for r in results if r.outcome == "may" and not stop_among_outcomes(r)]
    assert not vague, "the kernel's stop is not an outcome:\n%s" % EP.describe(vague[0])
    # the kernel really met ufw's limit (recent) both ways, and policies and rules decided
    for family in FAMILIES:
        burst = [r.kernel.verdict for r in results if r.family == family and r.probe.dport == 2222]
        assert burst[:5] == ["accept"] * 5 and "reject" in burst, (variant, family, burst)
        ks = {(r.probe.hook, r.kernel.position is None) for r in results if r.family == family}
        assert ("INPUT", True) in ks and ("INPUT", False) in ks, (variant, family, ks)


def test_probe_addresses_stay_in_the_documentation_prefixes():
    docs = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32")]
    for family in FAMILIES:
        for p in _probes(family):
            for addr in (p.src, p.dst):
                assert any(ipaddress.ip_address(addr) in n for n in docs), addr
