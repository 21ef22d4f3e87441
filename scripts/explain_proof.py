"""The full proof of the packet evaluator against the kernel (issue #12): `make explain-proof`.

Random rulesets and probes aimed at them (tests/fixtures/explain_proof.py) for both
iptables variants and both families, each probe sent for real in network namespaces
made and deleted here, the kernel's deciding rule read from its counters and compared
with `Evaluator.explain`; then the evaluator's speed on a 10,000-rule chain. Writes
docs/explain.md (the figures, the seed, every disagreement with its ruleset and packet).
Needs root. The quick run of the same proof is tests/kernel/eval/test_explain_proof.py.

    python3 scripts/explain_proof.py [--seed N] [--rulesets 130] [--per-ruleset 10]
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = ROOT / "build" / "collections"
_link = LINK / "ansible_collections" / "hostfw" / "netfilter"
if not _link.exists():
    _link.parent.mkdir(parents=True, exist_ok=True)
    _link.symlink_to(ROOT)
sys.path.insert(0, str(LINK))

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import (  # noqa: E402
    rule as RULE,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import (  # noqa: E402
    save as SAVE,
)
from ansible_collections.hostfw.netfilter.tests.fixtures import explain_proof as EP  # noqa: E402
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (  # noqa: E402
    FAMILIES,
    VARIANTS,
)

HEAD = """\
# The packet evaluator against the kernel

Written by `make explain-proof` (scripts/explain_proof.py); the quick run of the same
proof is part of `make test` (tests/kernel/eval/test_explain_proof.py).

**Method.** A seeded generator (tests/fixtures/explain_proof.py) makes filter-table
rulesets from the rule vocabulary: one to three user chains reached by `-j` and `-g`,
RETURN, negations, ACCEPT/DROP policies on INPUT, OUTPUT and FORWARD, and rules with
source/destination networks, tcp/udp/icmp, ports and ranges, multiport, in/out
interfaces (with `veth+` wildcards), ctstate, icmp types and codes, address ranges, syn and
tcp-flags, comments, LOG, REJECT (several reject-with), DROP, ACCEPT, and rate limits
the evaluator cannot decide ("may"). Each rule is a rule mapping compiled with
`compile_rule`; the ruleset is loaded with the variant's own `iptables-restore`
(iptables-nft-* or iptables-legacy-*) into a server and a router namespace. Probes
aimed at the rules (their addresses, ports, flags and states, with near misses, plus
random ones) are sent for real from a client namespace: INPUT into the server, FORWARD
through the router, OUTPUT from a raw socket in the server; ESTABLISHED probes (UDP,
ICMP echo replies) answer a packet conntrack saw in the other direction first, RELATED
probes are ICMP port unreachables quoting such a packet, INVALID probes are TCP packets
no connection explains (SYN+ACK, FIN, RST, no flags...; a lone SYN or ACK is NEW, as
measured). Every flow is used once. A mangle rule using conntrack keeps the namespaces'
connection tracking on throughout (the kernel registers its hooks only while a rule
needs them). OUTPUT probes are NEW or INVALID only: an ESTABLISHED one would need a
local source, which a REJECT would answer through the chains. Source
addresses are unroutable from the server and the router, so no reply or REJECT answer
crosses a chain; IPv6 neighbours are static, and the ND/MLD ACCEPT rules that head
INPUT and OUTPUT of IPv6 rulesets (seen by the evaluator too) are left out of the
judging. After each probe the counters (`iptables-save -c`, compared with the save
before the probe, which is what zeroing them would give) name the terminating rule
that counted it, or the built-in chain's policy (its own counter). The evaluator's
answer is `Evaluator(parse_save(save), family).explain(packet_from(spec))` on the
kernel's own save text. A definite answer agrees when verdict, chain and position (or
the policy) are the kernel's; a "may" answer when the kernel's verdict is among its
`verdicts`.
**On a ruleset another tool writes: ufw.** tests/kernel/eval/test_explain_ufw.py (part of
`make kernel`) fetches Debian's ufw 0.36.2 with `apt-get download`, extracts it (nothing
installed), and enables it inside a network and mount namespace of its own (the
variant chosen by binding a directory of links over /etc/alternatives there): default
deny incoming, logging, `allow 22/tcp`, `limit 2222/tcp`, rules by source network and
interface, `reject`, `deny out` - 78 IPv4 and 117 IPv6 filter rules with ufw's `recent`,
`addrtype`, `limit`ed LOG and, in IPv6, `rt` and `hl` matches. Real packets against it,
judged as above, on 2026-12-08 (the same on nf_tables and legacy): IPv4 41 pairs, 12
definite (all agree), 29 "may" (the kernel's verdict and rule among the outcomes in all);
IPv6 39 pairs, all "may" (correct, and the kernel's rule always listed): ufw's IPv6
chains start with `-m rt` and `-m hl` rules, and its `ufw-not-local` chain tests
`-m addrtype --dst-type LOCAL`, which the evaluator cannot decide from a packet alone
(the host's addresses and the packet's extension headers are not part of it), so it
follows both ways. No disagreement.
"""


def prove_all(seed, n_rulesets, per_ruleset, api):
    results, clock = [], [0.0, 0]
    for variant in VARIANTS:
        lab = EP.Lab(variant)
        used: set = set()
        try:
            for family in FAMILIES:
                rng = random.Random("%d-%s-%s" % (seed, variant, family))
                results += EP.prove(lab, rng, family, n_rulesets, per_ruleset, used, api, clock)
        finally:
            lab.close()
    return results, clock


def bench(api, n_rules, n_packets, seed):
    """Seconds for Evaluator() on an n_rules INPUT chain and for explain() of n_packets."""
    Evaluator, packet_from, _where = api
    rng = random.Random(seed)
    lines = []
    while len(lines) < n_rules:
        i = len(lines)
        d = {"jump": rng.choice(["ACCEPT", "DROP", "RETURN", "LOG"])}
        kind = i % 4
        if kind in (0, 1):
            d.update(protocol=rng.choice(["tcp", "udp"]), destination_port=rng.randint(1, 65535))
        if kind in (1, 2):
            d["source"] = str(ipaddress.ip_address("192.0.2.0") + rng.randrange(256)) + "/32"
        if kind == 3:
            d.update(protocol="tcp", destination_ports=[rng.randint(1, 65535) for _j in range(3)])
        lines += [
            "-A INPUT %s" % r.text()
            for _f, r in RULE.compile_rule(d, ("ipv4",), "filter", "INPUT", None)
        ]
    text = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n%s\nCOMMIT\n"
    tables = SAVE.parse_save(text % "\n".join(lines))
    specs = [
        {
            "family": "ipv4",
            "protocol": rng.choice(["tcp", "udp"]),
            "source": str(ipaddress.ip_address("192.0.2.0") + rng.randrange(256)),
            "destination": "192.0.2.1",
            "source_port": rng.randint(1024, 65535),
            "destination_port": rng.randint(1, 65535),
            "in_interface": "eth0",
        }
        for _i in range(n_packets)
    ]
    packets = [packet_from(s) for s in specs]
    t0 = time.perf_counter()
    ev = Evaluator(tables, "ipv4")
    ev.explain(packets[0])  # the first explain() includes any lazy compiling
    t1 = time.perf_counter()
    for p in packets:
        ev.explain(p)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def table(results):
    rows = [
        "| variant | family | pairs | definite | agree (verdict and rule) | may | may: verdict among"
        " verdicts | may: rule among outcomes | disagree | not seen |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    groups = [(v, f) for v in VARIANTS for f in FAMILIES] + [("all", "all")]
    for v, f in groups:
        rs = [
            r for r in results if (v == "all" or r.variant == v) and (f == "all" or r.family == f)
        ]
        definite = [r for r in rs if r.certainty == "definite" and r.outcome != "unseen"]
        may = [r for r in rs if r.certainty == "may" and r.outcome != "unseen"]
        agree = sum(r.outcome == "agree" for r in definite)
        contained = sum(r.outcome == "may" for r in may)
        rule_in = sum(r.rule_among_outcomes for r in may)
        bad = sum(r.outcome == "disagree" for r in rs)
        unseen = sum(r.outcome == "unseen" for r in rs)
        rows.append(
            "| %s | %s | %d | %d | %d (%s) | %d (%.1f %%) | %d | %d | %d | %d |"
            % (
                v,
                f,
                len(rs),
                len(definite),
                agree,
                pct(agree, len(definite)),
                len(may),
                100.0 * len(may) / max(1, len(rs) - unseen),
                contained,
                rule_in,
                bad,
                unseen,
            )
        )
    return rows


def pct(a, b):
    return "%.2f %%" % (100.0 * a / b) if b else "-"


def report(args, results, clock, elapsed, speed, where):
    uname = platform.uname()
    out = [
        HEAD,
        "## Run of %s" % datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "",
    ]
    out += [
        "- machine: `%s %s %s %s`, %d CPUs (nproc), Python %s"
        % (
            uname.system,
            uname.node,
            uname.release,
            uname.machine,
            os.cpu_count() or 0,
            platform.python_version(),
        ),
        "- seed: `%d` (`python3 scripts/explain_proof.py --seed %d` repeats the run)"
        % (args.seed, args.seed),
        "- rulesets: %d per variant and family, %d probes each; packets built with %s"
        % (args.rulesets, args.per_ruleset, where),
        "- wall time of the kernel part: %.1f s" % elapsed,
        "",
        *table(results),
        "",
        "- evaluator time per packet (explain only, on these rulesets): %.1f µs over %d packets"
        % (1e6 * clock[0] / max(1, clock[1]), clock[1]),
        "- evaluator speed, %d-rule INPUT chain, %d packets: Evaluator() and a first explain() %.2f s, "
        "then explain() of all packets %.2f s (%.0f µs each)"
        % (
            args.bench_rules,
            args.bench_packets,
            speed[0],
            speed[1],
            1e6 * speed[1] / max(1, args.bench_packets),
        ),
        "",
        "### What the pairs exercised",
        "",
        "Counts over all judged pairs: how they were decided, and the rule keys and targets of the",
        "rules on the evaluator's path (a pair counts once per key).",
        "",
        "| what | pairs |",
        "| --- | ---: |",
        *["| %s | %d |" % kv for kv in EP.coverage(results).items()],
        "",
        "### Disagreements",
        "",
    ]
    bad = [r for r in results if r.outcome in ("disagree", "unseen")]
    if not bad:
        out.append("None: every definite answer named the kernel's verdict and deciding rule, and")
        out.append('every "may" answer held the kernel\'s verdict.')
    for r in bad[:10]:
        out += ["```", EP.describe(r).rstrip(), "```", ""]
    if len(bad) > 10:
        out.append("(%d more not shown)" % (len(bad) - 10))
    return "\n".join(out).rstrip() + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--seed", type=int, default=int(time.time()) % 1000000)
    ap.add_argument("--rulesets", type=int, default=130, help="per variant and family")
    ap.add_argument("--per-ruleset", type=int, default=10)
    ap.add_argument("--bench-rules", type=int, default=10000)
    ap.add_argument("--bench-packets", type=int, default=10000)
    ap.add_argument("--out", default=str(ROOT / "docs" / "explain.md"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("explain_proof.py needs root (network namespaces)")
    api = EP.load_api()
    t0 = time.monotonic()
    results, clock = prove_all(args.seed, args.rulesets, args.per_ruleset, api)
    elapsed = time.monotonic() - t0
    speed = bench(api, args.bench_rules, args.bench_packets, args.seed)
    Path(args.out).write_text(report(args, results, clock, elapsed, speed, api[2]))
    bad = sum(r.outcome in ("disagree", "unseen") for r in results)
    print(
        "%d pairs, %d disagreements or unseen probes, %.1f s; wrote %s"
        % (len(results), bad, elapsed, args.out)
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
