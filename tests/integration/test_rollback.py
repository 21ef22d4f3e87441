"""rollback_timeout and hostfw.netfilter.confirm against the real kernel, on both
variants: a change is undone by its detached timer after the deadline unless
confirmed; reverts stack (newest first); other writers' chains stay; a change of
nothing arms nothing; a module killed right after its restore is still undone; an
undo the kernel refuses applies nothing and waits under ``failed/`` for confirm;
check mode arms nothing. The last test records how late the reverts come
(``tests/output/rollback_timing.json``).

Every task runs with its own state directory (``HOSTFW_NETFILTER_STATE_DIR``) and
SSH_CONNECTION cleared. Every test ends with no live timer: confirmed, reverted and
waited for, or (on failure) killed in teardown through the records' ``timer.pid``.
Waits poll the saves (every 0.1 s, up to 30 s); no assertion is made on timing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import stat
import statistics
import time
from pathlib import Path

import _netns
import pytest
from _race import real_tool

NS = "hostfw.netfilter."
FAMILIES = ("ipv4", "ipv6")
LIMIT = 30.0  # seconds a revert may take before the test gives up
OUTPUT = Path(__file__).resolve().parents[1] / "output" / "rollback_timing.json"
ID_RE = re.compile(r"^[0-9a-f]{12}$")
DEADLINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# What the host holds before each test: one hand-made rule in INPUT and a user chain.
START = (
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    ":HAND - [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A HAND -j RETURN\nCOMMIT\n"
)
# A Docker-like writer: its own chain, a rule in it, a jump from FORWARD.
DOCKER = (
    ["-N", "DOCKER-USER"],
    ["-A", "DOCKER-USER", "-j", "RETURN"],
    ["-A", "FORWARD", "-j", "DOCKER-USER"],
)


def rule(name, port, chain="INPUT"):
    return dict(name=name, chain=chain, protocol="tcp", destination_port=port, jump="ACCEPT")


SIDE = dict(name="rb-s", protocol="tcp", destination_port=7, jump="ACCEPT")


def comment(name):
    return f'--comment "hostfw:{name}"'


def normal(text):
    """A save without its dated comment lines and with chain counters zeroed."""
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    return "\n".join(re.sub(r"\[\d+:\d+\]", "[0:0]", ln) for ln in lines)


class Host:
    """One namespace with its own rollback state directory."""

    def __init__(self, ns, state):
        self.ns = ns
        self.state = state
        self.base = state / "rollback"
        self.env = {"SSH_CONNECTION": "", "HOSTFW_NETFILTER_STATE_DIR": str(state)}
        for fam in FAMILIES:
            ns.restore(START, fam, noflush=False)

    # ------------------------------------------------------------ tasks
    def task(self, module, args, name, **keywords):
        t = {"name": name, NS + module: dict(args), "environment": self.env}
        t["ignore_errors"] = True
        t.update(keywords)
        return t

    def play(self, tasks, **kw):
        """Run the tasks; -> {task name: result}."""
        return {r["_task"]: r for r in _netns.run_playbook(self.ns, tasks, **kw)}

    def iptables_all(self, commands, families=FAMILIES):
        for fam in families:
            for argv in commands:
                self.ns.iptables("-w", *argv, family=fam)

    # ------------------------------------------------------------ the kernel
    def saves(self):
        return {fam: normal(self.ns.save(fam)) for fam in FAMILIES}

    def wait_saves(self, want, limit=LIMIT):
        """Poll until both saves equal `want`; -> when that was first seen (epoch)."""
        end = time.monotonic() + limit
        while True:
            now, got = time.time(), self.saves()
            if got == want:
                return now
            if time.monotonic() > end:
                pytest.fail(
                    f"not reverted within {limit} s:\nwant {want}\ngot  {got}\n{self.log()}"
                )
            time.sleep(0.1)

    # ------------------------------------------------------------ the state directory
    def records(self, sub):
        d = self.base / sub
        return sorted(p.name for p in d.iterdir()) if d.is_dir() else []

    def meta(self, sub, rid):
        (name,) = [n for n in self.records(sub) if n.endswith("-" + rid)]
        return json.loads((self.base / sub / name / "meta.json").read_text())

    def log(self):
        path = self.base / "log"
        return path.read_text() if path.exists() else ""

    def wait_log(self, pattern, limit=LIMIT):
        """Poll until the log matches `pattern` (a line, re.M); -> the log."""
        end = time.monotonic() + limit
        while not re.search(pattern, self.log(), re.M):
            if time.monotonic() > end:
                pytest.fail(f"no {pattern!r} in the log within {limit} s:\n{self.log()}")
            time.sleep(0.1)
        return self.log()

    def timers(self):
        """Live timer processes of this state directory (revert.sh in their cmdline)."""
        script = str(self.base / "revert.sh").encode()
        pids = _netns.run([_netns.IP, "netns", "pids", self.ns.name], check=False).stdout.split()
        live = []
        for pid in pids:
            with contextlib.suppress(OSError):
                if script in Path(f"/proc/{pid}/cmdline").read_bytes():
                    live.append(int(pid))
        return live

    def wait_no_timer(self, limit=LIMIT):
        end = time.monotonic() + limit
        while self.timers():
            if time.monotonic() > end:
                pytest.fail(f"timers still alive after {limit} s: {self.timers()}")
            time.sleep(0.1)

    def end(self):
        """A test ends with nothing pending and no timer alive."""
        self.wait_no_timer()
        assert self.records("pending") == [], self.log()

    def kill_timers(self):
        for pidfile in self.base.glob("*/*/timer.pid"):
            with contextlib.suppress(OSError, ValueError):
                pid = int(pidfile.read_text().strip())
                if b"revert.sh" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
        for pid in self.timers():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def host(netns, tmp_path):
    h = Host(netns, tmp_path / "state")
    yield h
    h.kill_timers()  # before the namespace goes (it kills what is left, too)


def assert_armed(res):
    assert not res.get("failed"), res
    assert res["changed"] is True, res
    assert ID_RE.match(res["rollback_id"]), res
    assert DEADLINE_RE.match(res["rollback_deadline"]), res
    return res["rollback_id"]


def assert_modes(base):
    """Directories 0700, files 0600 (the runner script 0700)."""
    assert stat.S_IMODE(base.stat().st_mode) == 0o700, base
    bad = []
    for root, dirs, files in os.walk(base):
        for d in dirs:
            mode = stat.S_IMODE((Path(root) / d).stat().st_mode)
            if mode != 0o700:
                bad.append(f"{Path(root) / d} {mode:o}")
        for f in files:
            path = Path(root) / f
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode != (0o700 if f == "revert.sh" else 0o600):
                bad.append(f"{path} {mode:o}")
    assert not bad, "wrong modes:\n" + "\n".join(bad)


# ---------------------------------------------------------------------- 1. revert


def test_revert_after_the_deadline(host, variant):
    before = host.saves()
    res = host.play([host.task("rule", {**rule("rb-a", 8081), "rollback_timeout": 2}, "add")])
    rid = assert_armed(res["add"])
    now = host.saves()
    for fam in FAMILIES:
        assert comment("rb-a") in now[fam], now
    host.wait_saves(before)
    host.wait_no_timer()
    (name,) = host.records("reverted")
    assert name.endswith("-" + rid), name
    assert re.search(rf"rollback \d+-{rid}: reverted$", host.log(), re.M), host.log()
    host.end()
    assert_modes(host.base)


# ---------------------------------------------------------------------- 2. confirm (+5)


def test_confirm_keeps_the_change(host, variant):
    tasks = [
        host.task("rule", {**rule("rb-a", 8081), "rollback_timeout": 2}, "a", register="a"),
        host.task("rule", {**rule("rb-b", 8082), "rollback_timeout": 2}, "b"),
        {"name": "reconnect", "ansible.builtin.meta": "reset_connection"},
        host.task("confirm", {"id": "{{ a.rollback_id }}"}, "confirm a"),
        host.task("confirm", {}, "confirm all"),
        host.task("confirm", {"id": "0123456789ab"}, "confirm unknown"),
    ]
    res = host.play(tasks)
    a, b = assert_armed(res["a"]), assert_armed(res["b"])
    assert res["confirm a"]["changed"] is True and res["confirm a"]["confirmed"] == [a], res
    assert res["confirm a"]["pending"] == [{"id": b, "state": "pending"}], res
    assert res["confirm all"]["confirmed"] == [b] and res["confirm all"]["pending"] == [], res
    unknown = res["confirm unknown"]
    assert unknown["failed"] is True and unknown["msg"].startswith("id:"), unknown
    assert "0123456789ab" in unknown["msg"], unknown
    kept = host.saves()
    deadline = max(host.meta("confirmed", rid)["deadline"] for rid in (a, b))
    time.sleep(max(0.0, deadline - time.time()) + 1.5)
    assert host.saves() == kept
    for fam in FAMILIES:
        assert comment("rb-a") in kept[fam] and comment("rb-b") in kept[fam], kept
    assert host.records("confirmed") and not host.records("reverted")
    assert "reverted" not in host.log(), host.log()
    host.end()


# ---------------------------------------------------------------------- 3. stacking


def test_reverts_stack_newest_first(host, variant):
    before = host.saves()
    config = [
        {
            "table": "filter",
            "chains": [
                {"name": "FORWARD", "policy": "DROP"},
                {"name": "HOSTFW-S", "rules": [SIDE]},
            ],
        }
    ]
    tasks = [
        host.task("rule", {**rule("rb-a", 8081), "rollback_timeout": 2}, "first"),
        host.task(
            "ruleset", {"state": "merged", "config": config, "rollback_timeout": 4}, "second"
        ),
    ]
    res = host.play(tasks)
    first, second = assert_armed(res["first"]), assert_armed(res["second"])
    now = host.saves()
    for fam in FAMILIES:
        assert ":FORWARD DROP" in now[fam] and ":HOSTFW-S -" in now[fam], now
    host.wait_saves(before)
    # the first timer undid both: the second one is still asleep (its record is gone)
    log = host.wait_log(rf"rollback \d+-{first}: ")
    (name2,) = [n for n in host.records("reverted") if n.endswith(second)]
    pid2 = int((host.base / "reverted" / name2 / "timer.pid").read_text())
    assert pid2 in host.timers(), (pid2, host.timers(), log)
    done = re.findall(r"rollback \d+-([0-9a-f]+): reverted$", log, re.M)
    assert done == [second, first], host.log()
    host.end()
    assert host.saves() == before  # the second timer, waking up, did nothing


# ---------------------------------------------------------------------- 4. other writers


def test_other_writers_stay(host, variant):
    res = host.play([host.task("rule", {**rule("rb-a", 8081), "rollback_timeout": 3}, "add")])
    assert_armed(res["add"])
    host.iptables_all(DOCKER)
    during = host.saves()
    want = {
        fam: "\n".join(ln for ln in text.splitlines() if comment("rb-a") not in ln)
        for fam, text in during.items()
    }
    assert want != during
    host.wait_saves(want)
    for fam in FAMILIES:
        assert ":DOCKER-USER - [0:0]" in want[fam] and "-A FORWARD -j DOCKER-USER" in want[fam]
    host.end()


# ---------------------------------------------------------------------- 5. no change, no arm


def test_nothing_to_change_arms_nothing(host, variant):
    args = {**rule("rb-a", 8081), "rollback_timeout": 2}
    res = host.play(
        [
            host.task("rule", args, "add"),
            host.task("confirm", {}, "keep"),
            host.task("rule", args, "again"),
        ]
    )
    rid = assert_armed(res["add"])
    assert res["keep"]["confirmed"] == [rid], res["keep"]
    again = res["again"]
    assert again["changed"] is False and not again.get("failed"), again
    assert "rollback_id" not in again and "rollback_deadline" not in again, again
    assert host.records("pending") == [] and len(host.records("confirmed")) == 1
    assert (host.base / "seq").read_text().strip() == "1"
    host.end()


# ---------------------------------------------------------------------- 6. module killed


KILLER = """\
#!/bin/sh
# the real restore, then kill -9 the module that called it (once; never the test)
if [ "$PPID" != {test} ] && (set -C; echo "$PPID" > {marker}) 2>/dev/null; then
    {real} "$@"
    kill -9 "$PPID"
    exit 0
fi
exec {real} "$@"
"""


def test_module_killed_after_apply_is_reverted(host, variant, tmp_path):
    before = host.saves()
    bin_dir = tmp_path / "killer"
    bin_dir.mkdir()
    marker = tmp_path / "killed"
    for name in (f"iptables-{variant}-restore", "iptables-restore"):
        path = bin_dir / name
        path.write_text(
            KILLER.format(
                test=os.getpid(),
                marker=shlex.quote(str(marker)),
                real=shlex.quote(real_tool(variant, "ipv4", "restore")),
            )
        )
        path.chmod(0o755)
    host.ns.env["PATH"] = f"{bin_dir}:{host.ns.env['PATH']}"
    res = host.play([host.task("rule", {**rule("rb-a", 8081), "rollback_timeout": 2}, "add")])
    assert res["add"]["failed"] is True, res["add"]
    assert marker.exists(), res["add"]
    (name,) = host.records("pending") or host.records("reverted")
    applied = host.saves()
    assert comment("rb-a") in applied["ipv4"], applied  # applied, then killed
    host.wait_saves(before)
    assert re.search(rf"rollback {name}: reverted$", host.wait_log(name), re.M), host.log()
    host.end()


# ---------------------------------------------------------------------- 7. revert refused


def test_refused_revert_applies_nothing(host, variant):
    res = host.play([host.task("chain", {"name": "HOSTFW-NEW", "rollback_timeout": 2}, "create")])
    rid = assert_armed(res["create"])
    # another program jumps to the new chain in IPv6 only: the IPv6 undo (-X) is
    # refused, so the IPv4 one must not be applied either
    host.ns.iptables("-w", "-A", "HAND", "-j", "HOSTFW-NEW", family="ipv6")
    during = host.saves()
    for fam in FAMILIES:
        assert ":HOSTFW-NEW - [0:0]" in during[fam], during
    host.wait_no_timer()  # the timer has run (or given up)
    assert host.saves() == during, host.log()
    (name,) = host.records("failed") or [host.log()]
    assert name.endswith("-" + rid) and host.records("pending") == []
    assert f"rollback {name}: the kernel refused the" in host.log(), host.log()
    res = host.play([host.task("confirm", {"id": rid}, "clear")])
    assert res["clear"]["confirmed"] == [rid] and res["clear"]["pending"] == [], res
    assert host.records("failed") == [] and host.records("confirmed") == [name]
    assert host.saves() == during
    host.end()


# ---------------------------------------------------------------------- 8. check mode


def test_check_mode_arms_nothing(host, variant):
    before = host.saves()
    res = host.play(
        [host.task("rule", {**rule("rb-a", 8081), "rollback_timeout": 2}, "add", check_mode=True)]
    )
    assert res["add"]["changed"] is True and not res["add"].get("failed"), res
    assert "rollback_id" not in res["add"], res
    assert host.records("pending") == [] and not (host.base / "seq").exists()
    assert host.saves() == before
    host.end()


# ---------------------------------------------------------------------- 9. timing

CYCLES = 5  # per variant: 10 runs over both


def test_revert_timing(host, variant):
    before = host.saves()
    late = []
    for n in range(CYCLES):
        args = {**rule(f"rb-t{n}", 9000 + n), "rollback_timeout": 2}
        res = host.play([host.task("rule", args, "add")])
        rid = assert_armed(res["add"])
        deadline = host.meta("pending", rid)["deadline"]
        seen = host.wait_saves(before)
        late.append(round(seen - deadline, 3))
        host.wait_no_timer()
    host.end()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else {}
    data.setdefault("samples", {})[variant] = late
    every = [x for v in data["samples"].values() for x in v]
    data["summary"] = {
        "runs": len(every),
        "min": min(every),
        "median": statistics.median(every),
        "max": max(every),
        "unit": "seconds after the recorded deadline the saves were seen back",
    }
    OUTPUT.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"rollback timing {variant}: {late}; all: {data['summary']}")
