"""Real TCP probes between lab containers, checked against expected verdicts.

Reads JSON on stdin:
    {"addresses": {"4": {HOST: ADDR}, "6": {HOST: ADDR}},
     "timeout": 2,
     "probes": [{"from": HOST, "to": HOST, "families": [4, 6],
                 "open": [PORT...], "closed": [PORT...], "timeout": [PORT...]}]}
and runs every probe with `podman exec FROM hostfw-probe ADDR PORT` - all probes
of one source container in parallel inside one `podman exec`, the sources in
parallel too. Prints one line per probe,
    ok       FROM -> TO:PORT/IPvN open
    MISMATCH FROM -> TO:PORT/IPvN expected timeout, got open
and exits 1 when any verdict differs from the expected one.
"""

import concurrent.futures
import json
import shlex
import subprocess
import sys


def plan(spec):
    """[(source, label, address, port, expected)] for every probe in spec."""
    out = []
    for p in spec["probes"]:
        for fam in p.get("families", [4, 6]):
            addr = spec["addresses"][str(fam)][p["to"]]
            for verdict in ("open", "closed", "timeout"):
                for port in p.get(verdict, []):
                    label = "%s -> %s:%s/IPv%s" % (p["from"], p["to"], port, fam)
                    out.append((p["from"], label, addr, int(port), verdict))
    return out


def run_source(source, probes, timeout):
    """Run the probes of one source container in parallel; {index: verdict}."""
    script = []
    for i, (_src, _label, addr, port, _exp) in probes:
        cmd = "hostfw-probe %s %d --timeout %s" % (shlex.quote(addr), port, timeout)
        script.append("( %s > /tmp/hfw-probe.%d 2>&1 ) &" % (cmd, i))
    script.append("wait")
    script.extend(
        'echo "%d $(cat /tmp/hfw-probe.%d)"; rm -f /tmp/hfw-probe.%d' % (i, i, i)
        for i, _probe in probes
    )
    res = subprocess.run(
        ["podman", "exec", source, "sh", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        check=False,
    )
    verdicts = {}
    for line in res.stdout.splitlines():
        idx, _sep, word = line.partition(" ")
        if idx.isdigit():
            verdicts[int(idx)] = word.strip()
    if res.returncode != 0:
        for i, _probe in probes:
            verdicts.setdefault(i, "error: podman exec: %s" % res.stderr.strip())
    return verdicts


def main():
    spec = json.load(sys.stdin)
    probes = list(enumerate(plan(spec)))
    by_source = {}
    for i, p in probes:
        by_source.setdefault(p[0], []).append((i, p))
    verdicts = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(by_source) or 1) as pool:
        jobs = [
            pool.submit(run_source, s, ps, spec.get("timeout", 2)) for s, ps in by_source.items()
        ]
        for job in jobs:
            verdicts.update(job.result())
    bad = 0
    for i, (_src, label, _addr, _port, expected) in probes:
        got = verdicts.get(i, "error: no verdict")
        if got == expected:
            print("ok       %s %s" % (label, got))
        else:
            bad += 1
            print("MISMATCH %s expected %s, got %s" % (label, expected, got))
    print("%d probes, %d mismatches" % (len(probes), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
