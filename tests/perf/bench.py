"""Benchmark of hostfw.netfilter.ruleset against the physical limit.

In fresh network namespaces, for each N and each iptables variant, measures:
  - the limit: one iptables-restore of the same rules (the text our module would
    write) and one iptables-save of them;
  - Ansible's fixed per-task cost (a trivial module task);
  - ruleset first apply, no-op re-run and one-rule change on top of N, as task
    wall time from the playbook, for the restore backend (both variants) and the
    python_iptables backend (legacy), with the module's own phase timings.
Each figure is the median of --repeat runs, with min and max; ratios are taken to
the limit measured in the same run. Results: OUTPUT/results.md and results.json.

    python tests/perf/bench.py [--quick] [--sizes 100,1000,10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "build" / "collections"
sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import (  # noqa: E402
    compile_config,
    render_config,
)

VARIANT_TOOLS = {"nft": "nft", "legacy": "legacy"}


def rules_for(n: int, change: bool = False) -> list[dict]:
    """N simple distinct rules: one source address and port each."""
    rules = []
    for i in range(n):
        port = 1024 + (i % 60000)
        if change and i == n // 2:
            port = 65000
        rules.append(
            {
                "name": f"r{i}",
                "protocol": "tcp",
                "source": f"198.51.{(i // 250) % 256}.{1 + i % 250}",
                "destination_port": port,
                "jump": "ACCEPT",
            }
        )
    return rules


def config_for(rules):
    return [{"table": "filter", "chains": [{"name": "INPUT", "rules": rules}]}]


class Namespace:
    def __init__(self, variant: str):
        self.name = f"hfwb-{os.getpid()}-{time.monotonic_ns() % 10**9}"
        self.variant = variant
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.bindir = tempfile.mkdtemp(prefix="hfwb-bin-")
        for fam in ("iptables", "ip6tables"):
            for suffix in ("", "-save", "-restore"):
                src = f"/usr/sbin/{fam}-{VARIANT_TOOLS[variant]}{suffix}"
                os.symlink(src, os.path.join(self.bindir, fam + suffix))
        self.env = dict(os.environ, PATH=self.bindir + ":" + os.environ["PATH"])

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


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure_limit(variant: str, text: str):
    ns = Namespace(variant)
    try:
        restore = timed(lambda: ns.run(["iptables-restore"], stdin=text))
        save = timed(lambda: ns.run(["iptables-save"]))
    finally:
        ns.close()
    return restore, save


def run_playbook(ns: Namespace, workdir: Path, backend: str, n: int):
    cfg = {"base": config_for(rules_for(n)), "changed": config_for(rules_for(n, change=True))}
    (workdir / "vars.json").write_text(json.dumps(cfg))
    task = {
        "hostfw.netfilter.ruleset": {
            "state": "replaced",
            "ip_version": "ipv4",
            "backend": backend,
            "config": "{{ base }}",
        }
    }
    change = json.loads(json.dumps(task))
    change["hostfw.netfilter.ruleset"]["config"] = "{{ changed }}"
    play = [
        {
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {"name": "fixed", "ansible.builtin.ping": {}},
                {"name": "first", **task},
                {"name": "noop", **task},
                {"name": "change", **change},
            ],
        }
    ]
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
    )
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    cmd = [
        "ip", "netns", "exec", ns.name, playbook, "-i", "localhost,", "-c", "local",
        "-e", f"ansible_python_interpreter={sys.executable}",
        "-e", f"@{workdir / 'vars.json'}", str(workdir / "play.json"),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    rows = [json.loads(x) for x in timer.read_text().splitlines()] if timer.exists() else []
    if proc.returncode != 0 or len(rows) != 4 or any(r["failed"] for r in rows):
        raise RuntimeError(f"playbook failed: {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    by = {r["task"]: r for r in rows}
    assert by["first"]["changed"] and not by["noop"]["changed"] and by["change"]["changed"]
    return by


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N=1000 only, one repeat (for make test)")
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "tests" / "perf" / "output"))
    args = ap.parse_args(argv)
    sizes = [1000] if args.quick else [int(x) for x in args.sizes.split(",")]
    repeat = 1 if args.quick else args.repeat
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    combos = [("nft", "restore"), ("legacy", "restore"), ("legacy", "python_iptables")]
    for n in sizes:
        desired = compile_config(config_for(rules_for(n)), ("ipv4",))
        text = render_config(desired)["ipv4"]
        for variant, backend in combos:
            samples = {k: [] for k in ("restore", "save", "fixed", "first", "noop", "change")}
            phases = {}
            for _i in range(repeat):
                r, s = measure_limit(variant, text)
                samples["restore"].append(r)
                samples["save"].append(s)
                ns = Namespace(variant)
                try:
                    with tempfile.TemporaryDirectory() as tmp:
                        by = run_playbook(ns, Path(tmp), backend, n)
                finally:
                    ns.close()
                for k in ("fixed", "first", "noop", "change"):
                    samples[k].append(by[k]["seconds"])
                for k in ("first", "noop", "change"):
                    for phase, v in (by[k]["timings"] or {}).items():
                        phases.setdefault(k, {}).setdefault(phase, []).append(v)
            row = {
                "n": n,
                "variant": variant,
                "backend": backend,
                **{
                    k: {"median": median(v), "min": min(v), "max": max(v)}
                    for k, v in samples.items()
                },
                "phases": {k: {p: median(v) for p, v in d.items()} for k, d in phases.items()},
            }
            results.append(row)
            print(format_row(row), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "results.md").write_text(markdown(results, repeat))
    print(f"wrote {out / 'results.md'}")
    return 0


def format_row(r):
    m = {k: r[k]["median"] for k in ("restore", "save", "fixed", "first", "noop", "change")}
    return (
        f"N={r['n']:>6} {r['variant']:>6} {r['backend']:<15} restore={m['restore']:.3f} "
        f"save={m['save']:.3f} fixed={m['fixed']:.3f} first={m['first']:.3f} "
        f"noop={m['noop']:.3f} change={m['change']:.3f}"
    )


def markdown(results, repeat):
    lines = [
        f"Medians of {repeat} run(s), seconds. `net` = task time minus the fixed per-task cost;",
        "ratios: first-apply net / raw restore, no-op net / raw save.",
        "",
        "| N | variant | backend | raw restore | raw save | fixed task | first apply | no-op | one change | first net / restore | no-op net / save |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        m = {k: r[k]["median"] for k in ("restore", "save", "fixed", "first", "noop", "change")}
        first_net = m["first"] - m["fixed"]
        noop_net = m["noop"] - m["fixed"]
        lines.append(
            f"| {r['n']} | {r['variant']} | {r['backend']} | {m['restore']:.3f} | {m['save']:.3f} | "
            f"{m['fixed']:.3f} | {m['first']:.3f} | {m['noop']:.3f} | {m['change']:.3f} | "
            f"{first_net / m['restore']:.1f}x | {noop_net / m['save']:.1f}x |"
        )
    lines += ["", "Module phases (median seconds):", ""]
    for r in results:
        ph = r["phases"]
        parts = "; ".join(
            f"{k}: " + ", ".join(f"{p} {v:.3f}" for p, v in d.items()) for k, d in ph.items()
        )
        lines.append(f"- N={r['n']} {r['variant']} {r['backend']}: {parts}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
