"""Benchmark of hostfw.netfilter.ruleset against the physical limit and its peers.

Everything runs in fresh network namespaces created here and removed afterwards
(also on failure); the machine's own firewall is never touched. For each N and
each workload (`simple`: distinct tcp rules in one chain; `mix`: a realistic mix of
the rule vocabulary), in one run:

  - the limit: one iptables-restore of the same rules (the text the module would
    write), one iptables-save of them, and one small restore (one -R line on top of
    N rules), for the nf_tables and the legacy variant;
  - Ansible's fixed per-task cost (a trivial module task, ansible.builtin.ping);
  - hostfw.netfilter.ruleset first apply, no-op re-run and a one-rule change on top
    of N, as task wall time from the playbook, through two input paths:
      `src`:    the rules in a JSON file given as `src` (read by the action plugin);
      `inline`: the rules as an inline `config:` (a template of a play variable),
    for the restore backend (nf_tables and legacy) and python_iptables (legacy);
  - the module's own phases (validate, read, plan, render, apply, result);
  - peers: ansible.builtin.iptables in a loop (N = 100 and 300 only: every rule is
    a module run) and community.general.iptables_state restoring the same rules
    from a file.

Each figure is the median of several runs, with min and max; ratios are taken to
the limit measured in the same run. Output: OUTPUT/results.md, results.json and
results.png (time against N, log-log).

    python tests/perf/bench.py              # full: N = 100, 1000, 10000, 50000 (< 20 min)
    python tests/perf/bench.py --quick      # N = 1000, one run, no peers (make test)
    python tests/perf/bench.py --sizes 1000,10000 --repeat 3 --no-peers

A failed task, a wrong `changed` or a failed restore makes the exit status non-zero.
Timings are never asserted (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "build" / "collections"
sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.config import compile_config  # noqa: E402
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.states import render_config  # noqa: E402

VARIANT_TOOLS = {"nft": "nft", "legacy": "legacy"}
COMBOS = [("nft", "restore"), ("legacy", "restore"), ("legacy", "python_iptables")]
PEER_SIZES = (100, 300)


class BenchError(RuntimeError):
    """Something that must not happen: a failed task, a wrong `changed`."""


# ------------------------------------------------------------------ workloads


def _addr(i):
    return f"198.{18 + (i // 62500) % 2}.{(i // 250) % 250}.{1 + i % 250}"


def simple_rule(i, changed=False):
    return {
        "name": f"r{i}",
        "protocol": "tcp",
        "source": _addr(i),
        "destination_port": 65000 if changed else 1024 + (i % 60000),
        "jump": "ACCEPT",
    }


def mix_rule(i, changed=False):
    """Eight shapes that cover most of the vocabulary, each rule distinct."""
    src = _addr(i)
    shape = i % 8
    if shape == 0:
        r = {"protocol": "tcp", "source": src, "destination_port": 22, "jump": "ACCEPT"}
    elif shape == 1:
        r = {
            "protocol": "udp",
            "source": src,
            "destination_ports": [53, 123, 514],
            "jump": "ACCEPT",
        }
    elif shape == 2:
        r = {
            "in_interface": "eth0",
            "source": src,
            "ctstate": ["ESTABLISHED", "RELATED"],
            "jump": "ACCEPT",
        }
    elif shape == 3:
        r = {
            "protocol": "icmp",
            "icmp_type": "echo-request",
            "source": src,
            "limit": "10/second",
            "limit_burst": 20,
            "jump": "ACCEPT",
        }
    elif shape == 4:
        r = {
            "protocol": "tcp",
            "source": src,
            "syn": "match",
            "destination_port": "8000:8100",
            "jump": "LOG",
            "log_prefix": "hfw-web ",
            "log_level": 4,
        }
    elif shape == 5:
        r = {
            "protocol": "tcp",
            "source": src,
            "destination_port": 25,
            "jump": "REJECT",
            "reject_with": "tcp-reset",
        }
    elif shape == 6:
        r = {
            "source": "!" + src,
            "destination": "192.0.2.0/24",
            "comment": "not from the lab",
            "jump": "DROP",
        }
    else:
        r = {"protocol": "tcp", "source": src, "source_port": "1024:65535", "destination_port": 443, "jump": "ACCEPT"}  # fmt: skip
    r["name"] = f"m{i}"
    if changed:
        r["comment"] = "changed"
    return r


WORKLOADS = {"simple": simple_rule, "mix": mix_rule}


def rules_for(n, workload="simple", change=False):
    make = WORKLOADS[workload]
    return [make(i, change and i == n // 2) for i in range(n)]


def config_for(rules):
    return [{"table": "filter", "chains": [{"name": "INPUT", "rules": rules}]}]


def restore_text(rules):
    return render_config(compile_config(config_for(rules), ("ipv4",)))["ipv4"]


# ------------------------------------------------------------------ namespaces


class Namespace:
    """A fresh network namespace, with a directory of the variant's tools first on PATH."""

    def __init__(self, variant: str):
        self.name = f"hfwb-{os.getpid()}-{time.monotonic_ns() % 10**9}"
        self.variant = variant
        self.bindir = tempfile.mkdtemp(prefix="hfwb-bin-")
        for fam in ("iptables", "ip6tables"):
            for suffix in ("", "-save", "-restore"):
                src = f"/usr/sbin/{fam}-{VARIANT_TOOLS[variant]}{suffix}"
                os.symlink(src, os.path.join(self.bindir, fam + suffix))
        self.env = dict(os.environ, PATH=self.bindir + ":" + os.environ["PATH"])
        subprocess.run(["ip", "netns", "add", self.name], check=True)

    def run(self, argv, stdin=None):
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            check=True,
        )

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], check=False)
        for f in os.listdir(self.bindir):
            os.unlink(os.path.join(self.bindir, f))
        os.rmdir(self.bindir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure_limit(variant: str, text: str, change_line: str):
    """One restore of `text`, one save, and one small restore on top of it."""
    with Namespace(variant) as ns:
        restore = timed(lambda: ns.run(["iptables-restore"], stdin=text))
        save = timed(lambda: ns.run(["iptables-save"]))
        small = timed(
            lambda: ns.run(
                ["iptables-restore", "--noflush"], stdin=f"*filter\n{change_line}\nCOMMIT\n"
            )
        )
    return {"restore": restore, "save": save, "restore1": small}


# ------------------------------------------------------------------ playbooks


def run_play(ns: Namespace, workdir: Path, tasks: list, extra_vars: Path | None = None, warm=()):
    """Run one play inside the namespace; returns {task name: timer row}."""
    # the first task of a play carries the play's start-up: a warm-up task takes it,
    # and the fixed per-task cost is the mean of a trivial task before and after.
    # `warm`: one harmless task of the module under test, so the one-off building
    # of its payload (AnsiballZ, once per play and module) is not charged to the
    # first measured task, as it is not charged to the trivial task either.
    tasks = [
        {"name": "warmup", "ansible.builtin.ping": {}},
        *warm,
        *tasks,
        {"name": "fixed2", "ansible.builtin.ping": {}},
    ]
    play = [{"hosts": "all", "gather_facts": False, "tasks": tasks}]
    (workdir / "play.json").write_text(json.dumps(play))
    timer = workdir / "timer.jsonl"
    if timer.exists():
        timer.unlink()
    env = dict(
        ns.env,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).parent / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="hfw_timer",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_PIPELINING="1",
        HFW_TIMER_FILE=str(timer),
        # a memo of its own per run: the first apply starts cold
        HOSTFW_NETFILTER_CACHE_DIR=str(workdir / "memo"),
    )
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    cmd = [
        "ip", "netns", "exec", ns.name, playbook, "-i", "localhost,", "-c", "local",
        "-e", f"ansible_python_interpreter={sys.executable}",
    ]  # fmt: skip
    if extra_vars is not None:
        cmd += ["-e", f"@{extra_vars}"]
    cmd.append(str(workdir / "play.json"))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    rows = [json.loads(x) for x in timer.read_text().splitlines()] if timer.exists() else []
    if proc.returncode != 0 or len(rows) != len(tasks) or any(r["failed"] for r in rows):
        msgs = [r["msg"] for r in rows if r["failed"]]
        raise BenchError(f"playbook failed: {msgs} {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    by = {r["task"]: r for r in rows}
    by["fixed"] = dict(by["fixed"], seconds=(by["fixed"]["seconds"] + by["fixed2"]["seconds"]) / 2)
    return by


def expect(by, changed):
    for task, want in changed.items():
        if bool(by[task]["changed"]) != want:
            raise BenchError(f"task {task!r}: changed={by[task]['changed']}, expected {want}")


def ruleset_run(variant, backend, path, n, workload, workdir):
    """fixed, first, noop, change through `path` (src or inline) in a fresh namespace."""
    base = config_for(rules_for(n, workload))
    changed = config_for(rules_for(n, workload, change=True))
    args = {"state": "replaced", "ip_version": "ipv4", "backend": backend}
    if path == "src":
        (workdir / "base.json").write_text(json.dumps(base))
        (workdir / "changed.json").write_text(json.dumps(changed))
        first = dict(args, src=str(workdir / "base.json"))
        change = dict(args, src=str(workdir / "changed.json"))
        extra = None
    else:
        (workdir / "vars.json").write_text(json.dumps({"base": base, "changed": changed}))
        first = dict(args, config="{{ base }}")
        change = dict(args, config="{{ changed }}")
        extra = workdir / "vars.json"
    tasks = [
        {"name": "fixed", "ansible.builtin.ping": {}},
        {"name": "first", "hostfw.netfilter.ruleset": first},
        {"name": "noop", "hostfw.netfilter.ruleset": first},
        {"name": "change", "hostfw.netfilter.ruleset": change},
    ]
    warm = [
        {
            "name": "warmup-module",
            "hostfw.netfilter.ruleset": {"state": "rendered", "config": [{"chains": []}]},
        }
    ]
    with Namespace(variant) as ns:
        by = run_play(ns, workdir, tasks, extra, warm)
        saved = ns.run(["iptables-save", "-t", "filter"]).stdout
    expect(by, {"first": True, "noop": False, "change": True})
    got = sum(1 for line in saved.splitlines() if line.startswith("-A INPUT "))
    if got != n:
        raise BenchError(f"{n} rules wanted in INPUT, {got} found after the run")
    return by


def iptables_state_run(variant, n, workload, workdir):
    """community.general.iptables_state restoring the same rules from a file."""
    (workdir / "rules.v4").write_text(restore_text(rules_for(n, workload)))
    task = {
        "community.general.iptables_state": {
            "state": "restored",
            "path": str(workdir / "rules.v4"),
            "table": "filter",
            "ip_version": "ipv4",
        }
    }
    tasks = [
        {"name": "fixed", "ansible.builtin.ping": {}},
        {"name": "first", **task},
        {"name": "noop", **task},
    ]
    warm = [
        {
            "name": "warmup-module",
            "community.general.iptables_state": {
                "state": "saved",
                "path": str(workdir / "warm.v4"),
                "ip_version": "ipv4",
            },
        }
    ]
    with Namespace(variant) as ns:
        by = run_play(ns, workdir, tasks, None, warm)
    expect(by, {"first": True, "noop": False})
    return by


def builtin_loop_run(variant, n, workdir):
    """ansible.builtin.iptables, one module run per rule (the simple workload)."""
    rules = []
    for r in rules_for(n):
        rules.append(
            {
                "chain": "INPUT",
                "protocol": "tcp",
                "source": r["source"],
                "destination_port": str(r["destination_port"]),
                "comment": "hostfw:" + r["name"],
                "jump": "ACCEPT",
            }
        )
    (workdir / "loop.json").write_text(json.dumps({"loop_rules": rules}))
    loop_task = {k: "{{ item.%s }}" % k for k in rules[0]}
    tasks = [
        {"name": "fixed", "ansible.builtin.ping": {}},
        {"name": "first", "ansible.builtin.iptables": loop_task, "loop": "{{ loop_rules }}"},
    ]
    with Namespace(variant) as ns:
        by = run_play(ns, workdir, tasks, workdir / "loop.json")
    expect(by, {"first": True})
    return by


# ------------------------------------------------------------------ statistics


def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "runs": len(xs)}


def collect(runs, keys):
    return {k: stats([r[k]["seconds"] for r in runs]) for k in keys}


def phases(runs, keys):
    out = {}
    for k in keys:
        per = {}
        for r in runs:
            for phase, v in (r[k].get("timings") or {}).items():
                per.setdefault(phase, []).append(v)
        if per:
            out[k] = {p: statistics.median(v) for p, v in per.items()}
    return out


def repeats_for(n, repeat, backend=None, path="src"):
    """Fewer runs where one run costs a minute (the report says so)."""
    if n >= 50000:
        return 1 if backend == "python_iptables" or path == "inline" else min(repeat, 2)
    return repeat


# ------------------------------------------------------------------ main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N=1000, one run, no peers (make test)")
    ap.add_argument("--sizes", default="100,1000,10000,50000")
    ap.add_argument("--workloads", default="simple,mix")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "tests" / "perf" / "output"))
    ap.add_argument(
        "--publish",
        action="store_true",
        help="only copy OUTPUT/results.json's tables into docs/performance.md",
    )
    args = ap.parse_args(argv)
    if args.publish:
        return publish(json.loads((Path(args.out) / "results.json").read_text()))
    sizes = [1000] if args.quick else [int(x) for x in args.sizes.split(",")]
    workloads = ["simple"] if args.quick else args.workloads.split(",")
    repeat = 1 if args.quick else args.repeat
    peers = not (args.quick or args.no_peers)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = {"meta": meta(repeat), "ruleset": [], "limit": [], "peers": []}

    for workload in workloads:
        for n in sizes:
            rules = rules_for(n, workload)
            text = restore_text(rules)
            change_rule = restore_text(rules_for(n, workload, change=True)).splitlines()
            change_line = [x for x in change_rule if x.startswith("-A INPUT ")][n // 2]
            change_line = change_line.replace("-A INPUT", f"-R INPUT {n // 2 + 1}", 1)
            for variant in ("nft", "legacy"):
                samples = [measure_limit(variant, text, change_line) for _i in range(repeat)]
                row = {"workload": workload, "n": n, "variant": variant}
                row.update({k: stats([s[k] for s in samples]) for k in samples[0]})
                results["limit"].append(row)
            limit = {
                r["variant"]: r
                for r in results["limit"]
                if r["workload"] == workload and r["n"] == n
            }
            combos = [(v, b, "src") for v, b in COMBOS]
            if workload != "simple":  # python_iptables: the simple workload only
                combos = [c for c in combos if c[1] != "python_iptables"]
            combos.append(("nft", "restore", "inline"))
            if args.quick:
                combos.append(("legacy", "restore", "inline"))
            for variant, backend, path in combos:
                runs = []
                for _i in range(repeats_for(n, repeat, backend, path)):
                    with tempfile.TemporaryDirectory() as tmp:
                        runs.append(ruleset_run(variant, backend, path, n, workload, Path(tmp)))
                row = {
                    "workload": workload, "n": n, "variant": variant, "backend": backend,
                    "path": path, "limit": limit[variant],
                    **collect(runs, ("fixed", "first", "noop", "change")),
                    "phases": phases(runs, ("first", "noop", "change")),
                }  # fmt: skip
                results["ruleset"].append(row)
                print(format_row(row), flush=True)
            if peers and workload == "simple":
                for variant in ("nft", "legacy"):
                    runs = []
                    for _i in range(repeats_for(n, repeat)):
                        with tempfile.TemporaryDirectory() as tmp:
                            runs.append(iptables_state_run(variant, n, workload, Path(tmp)))
                    row = {
                        "peer": "community.general.iptables_state", "workload": workload,
                        "n": n, "variant": variant, "limit": limit[variant],
                        **collect(runs, ("fixed", "first", "noop")),
                    }  # fmt: skip
                    results["peers"].append(row)
                    print(format_peer(row), flush=True)
    if peers:
        for n in PEER_SIZES:
            runs = []
            inline = []
            for _i in range(1):  # one run: 300 module runs take minutes
                with tempfile.TemporaryDirectory() as tmp:
                    runs.append(builtin_loop_run("nft", n, Path(tmp)))
                with tempfile.TemporaryDirectory() as tmp:
                    inline.append(ruleset_run("nft", "restore", "inline", n, "simple", Path(tmp)))
            row = {
                "peer": "ansible.builtin.iptables (loop)", "workload": "simple", "n": n,
                "variant": "nft", **collect(runs, ("fixed", "first")),
                "ruleset_inline": collect(inline, ("fixed", "first", "noop", "change")),
            }  # fmt: skip
            results["peers"].append(row)
            print(format_peer(row), flush=True)

    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "results.md").write_text(markdown(results))
    if not args.quick:
        plot(results, out / "results.png")
    print(f"wrote {out / 'results.md'} in {results['meta']['seconds']} s")
    return 0


def meta(repeat):
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import ansible

    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.node()}: {os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}",
        "python": platform.python_version(),
        "ansible_core": ansible.__version__ if hasattr(ansible, "__version__") else "",
        "repeat": repeat,
    }


# ------------------------------------------------------------------ report


def med(entry):
    return entry["median"] if entry else float("nan")


def spread(entry):
    if not entry:
        return "-"
    if entry["runs"] == 1:
        return f"{entry['median']:.3f} (1 run)"
    return f"{entry['median']:.3f} [{entry['min']:.3f}-{entry['max']:.3f}]"


def ratios(row):
    """first net / restore, no-op net / save, change net / (no-op net + small restore)."""
    lim = row["limit"]
    fixed = med(row["fixed"])
    first = med(row["first"]) - fixed
    noop = med(row["noop"]) - fixed
    change = med(row["change"]) - fixed
    return (
        first / med(lim["restore"]),
        noop / med(lim["save"]),
        change / (noop + med(lim["restore1"])),
    )


def format_row(r):
    a, b, c = ratios(r)
    return (
        f"{r['workload']:<6} N={r['n']:>6} {r['variant']:>6} {r['backend']:<15} {r['path']:<6} "
        f"fixed={med(r['fixed']):.3f} first={med(r['first']):.3f} noop={med(r['noop']):.3f} "
        f"change={med(r['change']):.3f} | restore={med(r['limit']['restore']):.3f} "
        f"save={med(r['limit']['save']):.3f} | first/restore={a:.1f}x noop/save={b:.1f}x "
        f"change/(noop+restore1)={c:.2f}"
    )


def format_peer(r):
    return (
        f"peer {r['peer']} N={r['n']} {r['variant']} fixed={med(r['fixed']):.3f} "
        f"first={med(r['first']):.3f}"
    )


def markdown(results):
    m = results["meta"]
    lines = [
        f"Run {m['date']} on {m['machine']}; Python {m['python']}, ansible-core "
        f"{m['ansible_core']}; {m.get('seconds', 0):.0f} s in all.",
        "",
        f"Seconds: median [min-max] of {m['repeat']} runs (N = 50,000: 2 runs, python_iptables "
        "and the inline path 1 run; the ansible.builtin.iptables loop 1 run). `net` = task time minus the fixed per-task cost (a trivial module task) of "
        "the same play. Ratios are to the limit measured in the same run: first apply net / "
        "one raw `iptables-restore`, no-op net / one raw `iptables-save`, one-rule change net "
        "/ (no-op net + one small restore).",
        "",
        "## The limit",
        "",
        "| workload | N | variant | raw restore | raw save | small restore |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for r in results["limit"]:
        lines.append(
            f"| {r['workload']} | {r['n']} | {r['variant']} | {spread(r['restore'])} | "
            f"{spread(r['save'])} | {spread(r['restore1'])} |"
        )
    lines += [
        "",
        "## hostfw.netfilter.ruleset",
        "",
        "| workload | N | variant | backend | input | fixed task | first apply | no-op | one change "
        "| first net / restore | no-op net / save | change net / (no-op net + small restore) |",
        "|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["ruleset"]:
        a, b, c = ratios(r)
        lines.append(
            f"| {r['workload']} | {r['n']} | {r['variant']} | {r['backend']} | {r['path']} | "
            f"{med(r['fixed']):.3f} | {spread(r['first'])} | {spread(r['noop'])} | "
            f"{spread(r['change'])} | {a:.1f}x | {b:.1f}x | {c:.2f} |"
        )
    lines += growth(results)
    lines += ["", "## Targets (issue #4)", ""] + targets(results)
    if results["peers"]:
        lines += [
            "",
            "## Peers",
            "",
            "| peer | N | variant | fixed task | first apply | no-op | ruleset first apply (same N) | peer / ruleset, task time |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        for p in results["peers"]:
            if "ruleset_inline" in p:
                ours = p["ruleset_inline"]["first"]
                label = "inline"
            else:
                ours = find(results, p["workload"], p["n"], p["variant"], "restore", "src")
                ours = ours["first"] if ours else None
                label = "src"
            ratio = med(p["first"]) / med(ours) if ours else float("nan")
            lines.append(
                f"| {p['peer']} | {p['n']} | {p['variant']} | {med(p['fixed']):.3f} | "
                f"{spread(p['first'])} | {spread(p.get('noop'))} | {spread(ours)} ({label}) | "
                f"{ratio:.1f}x |"
            )
    lines += ["", "## Module phases (median seconds)", ""]
    for r in results["ruleset"]:
        parts = "; ".join(
            f"{k}: " + ", ".join(f"{p} {v:.3f}" for p, v in d.items())
            for k, d in r["phases"].items()
        )
        lines.append(
            f"- {r['workload']} N={r['n']} {r['variant']} {r['backend']} {r['path']}: {parts}"
        )
    return "\n".join(lines) + "\n"


def targets(results):
    """The issue's targets, checked against this run (simple workload, 10,000 rules)."""
    out = []
    for variant in ("nft", "legacy"):
        for path in ("src", "inline"):
            r = find(results, "simple", 10000, variant, "restore", path)
            if r is None:
                continue
            a, b, c = ratios(r)
            out.append(
                f"- N=10,000 {variant} restore, {path}: first apply net = {a:.1f}x raw restore "
                f"(target <= 2x: {'met' if a <= 2 else 'NOT met'}); no-op net = {b:.1f}x raw save "
                f"(target <= 2x: {'met' if b <= 2 else 'NOT met'}); one change net = {c:.2f} of "
                f"no-op net + small restore (target <= 1: {'met' if c <= 1 else 'NOT met'})"
            )
    for p in results["peers"]:
        if "ruleset_inline" in p and p["n"] == 300:
            ratio = (med(p["first"]) - med(p["fixed"])) / (
                med(p["ruleset_inline"]["first"]) - med(p["ruleset_inline"]["fixed"])
            )
            out.append(
                f"- ansible.builtin.iptables loop over 300 rules / ruleset first apply (inline), "
                f"net: {ratio:.0f}x (target >= 100x: {'met' if ratio >= 100 else 'NOT met'})"
            )
        if p["peer"].endswith("iptables_state") and p["n"] == 10000:
            ours = find(results, "simple", 10000, p["variant"], "restore", "src")
            if ours:
                ratio = med(ours["first"]) / med(p["first"])
                out.append(
                    f"- N=10,000 {p['variant']}: ruleset first apply (src) / iptables_state "
                    f"restored = {ratio:.2f} (target <= 1: {'met' if ratio <= 1 else 'NOT met'})"
                )
    for path in ("src", "inline"):
        r = find(results, "simple", 1000, "nft", "restore", path)
        big = find(results, "simple", 10000, "nft", "restore", path)
        if r and big:
            g = max(
                (med(big[k]) - med(big["fixed"])) / (med(r[k]) - med(r["fixed"]))
                for k in ("first", "noop", "change")
            )
            out.append(
                f"- growth 1,000 -> 10,000 (nft restore, {path}), worst of first/no-op/change: "
                f"{g:.1f}x (target <= 12x: {'met' if g <= 12 else 'NOT met'})"
            )
    return out


def publish(results):
    """Copy the ruleset and peer tables and the targets into docs/performance.md."""
    doc = ROOT / "docs" / "performance.md"
    md = markdown(results)
    keep = md.partition("## Module phases")[0]
    keep = keep.replace("## ", "### ")
    text = doc.read_text()
    start, end = "<!-- results: written by tests/perf/bench.py --publish -->", "<!-- /results -->"
    head, _sep, rest = text.partition(start)
    _old, _sep, tail = rest.partition(end)
    doc.write_text(head + start + "\n\n" + keep + "\n" + end + tail)
    print(f"wrote {doc}")
    return 0


def find(results, workload, n, variant, backend, path):
    for r in results["ruleset"]:
        if (r["workload"], r["n"], r["variant"], r["backend"], r["path"]) == (
            workload, n, variant, backend, path,
        ):  # fmt: skip
            return r
    return None


def growth(results):
    """Net time at 10 N over net time at N (the target: at most 12x)."""
    out = ["", "## Growth (net time at 10 N / net time at N)", ""]
    out += ["| workload | variant | backend | input | N → 10 N | first | no-op | change |"]
    out += ["|---|---|---|---|---|---:|---:|---:|"]
    for r in results["ruleset"]:
        big = find(results, r["workload"], r["n"] * 10, r["variant"], r["backend"], r["path"])
        if big is None:
            continue
        cells = []
        for k in ("first", "noop", "change"):
            small = med(r[k]) - med(r["fixed"])
            large = med(big[k]) - med(big["fixed"])
            cells.append(f"{large / small:.1f}x" if small > 0 else "-")
        out.append(
            f"| {r['workload']} | {r['variant']} | {r['backend']} | {r['path']} | "
            f"{r['n']} → {big['n']} | " + " | ".join(cells) + " |"
        )
    return out


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    lim = [r for r in results["limit"] if r["workload"] == "simple" and r["variant"] == "nft"]
    ns_ = [r["n"] for r in lim]
    ax.plot(
        ns_, [med(r["restore"]) for r in lim], "k-", lw=2, label="limit: iptables-restore (nft)"
    )
    ax.plot(ns_, [med(r["save"]) for r in lim], "k--", label="limit: iptables-save (nft)")
    for how, style in (("src", "-"), ("inline", ":")):
        rows = [
            r for r in results["ruleset"]
            if r["workload"] == "simple" and r["variant"] == "nft" and r["path"] == how
        ]  # fmt: skip
        if not rows:
            continue
        x = [r["n"] for r in rows]
        for key, color in (("first", "tab:blue"), ("noop", "tab:green"), ("change", "tab:orange")):
            y = [max(med(r[key]) - med(r["fixed"]), 1e-3) for r in rows]
            ax.plot(x, y, style, color=color, marker="o", label=f"ruleset {key} ({how}), net")
    st = [
        p
        for p in results["peers"]
        if p["peer"].endswith("iptables_state") and p["variant"] == "nft"
    ]
    if st:
        ax.plot(
            [p["n"] for p in st],
            [max(med(p["first"]) - med(p["fixed"]), 1e-3) for p in st],
            "-", color="tab:purple", marker="s", label="iptables_state restored, net",
        )  # fmt: skip
    loop = [p for p in results["peers"] if "loop" in p["peer"]]
    if loop:
        ax.plot(
            [p["n"] for p in loop],
            [med(p["first"]) - med(p["fixed"]) for p in loop],
            "-", color="tab:red", marker="^", label="ansible.builtin.iptables loop, net",
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rules (N)")
    ax.set_ylabel("seconds")
    ax.set_title(
        f"hostfw.netfilter.ruleset vs the limit (simple workload, nf_tables)\n{results['meta']['date']}"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        sys.exit(1)
