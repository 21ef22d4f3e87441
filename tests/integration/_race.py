"""A concurrent writer on cue: wrappers, first on a namespace's PATH, that change the
kernel's rules between a module's read and its write.

``Race(ns, "restore")`` shadows the restore tools the restore backend calls
(``iptables-<variant>-restore`` and plain ``iptables-restore``, or the ``ip6tables``
ones): the first call runs the foreign writer's commands with the real ``iptables``
of the variant (``-w``), then execs the real restore tool with its arguments and
stdin. The plan was made from a save taken before the foreign change, so the
transaction meets a chain that differs from the one it was planned for.

``Race(ns, "save")`` (legacy only, for the python_iptables backend, which writes
through libiptc while holding the xtables lock) shadows the save tools instead:
the first call runs the real save and keeps its output, runs the foreign writer's
commands with ``XTABLES_LOCKFILE`` pointing elsewhere (a writer that ignores the
lock the module holds, which would otherwise block it), then prints the kept
output: the module plans from a state that is already stale when it gets it.

Only the first call of the armed family's tools acts (an ``O_EXCL`` marker file,
``fired``); later calls (the module's read-back, re-plans, the test's own saves)
only pass through. Every call is logged (``calls``), with the exit status of each
foreign command. The real tools are resolved by absolute path in the sbin
directories (never through PATH, which holds the wrappers) before a wrapper is
written; wrappers exec them by the name the multi-call binaries dispatch on.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Sequence

import _netns

BASE = {"ipv4": "iptables", "ipv6": "ip6tables"}

_HEAD = """\
#!/bin/sh
# hostfw race wrapper: {name} -> {real}
echo "call $$ {name} $*" >> {log}
if [ ! -e {armed} ] || ! (set -C; echo "{name} $*" > {marker}) 2>/dev/null; then
    exec {real} "$@"
fi
echo "fired $$ {name}" >> {log}
"""
_RESTORE = """\
{actions}
exec {real} "$@"
"""
_SAVE = """\
out=$(mktemp)
{real} "$@" > "$out"
rc=$?
{actions}
cat "$out"
rm -f "$out"
exit $rc
"""
_ACTION = """\
{env}{iptables} -w {args} >> {log} 2>&1
echo "action rc=$? {args}" >> {log}
"""


def real_tool(variant: str, family: str, suffix: str = "") -> str:
    """Absolute path of ``iptables-<variant>[-suffix]`` (or ip6tables), outside PATH."""
    name = f"{BASE[family]}-{variant}" + (f"-{suffix}" if suffix else "")
    found = shutil.which(name, path=_netns._SBIN)
    if not found:
        raise RuntimeError(f"{name} not found in {_netns._SBIN}")
    return found


class Race:
    """A foreign writer bound to one namespace and one tool (``restore`` or ``save``).

    Creating it puts its (still empty) wrapper dir first on ``ns.env['PATH']``;
    ``arm(family, commands)`` writes the wrappers of that family. Arm after the test
    has loaded its starting state."""

    def __init__(self, ns: _netns.Netns, tool: str):
        if tool not in ("restore", "save"):
            raise ValueError(tool)
        if tool == "save" and ns.variant != "legacy":
            raise ValueError("the save race is for python_iptables, on legacy only")
        self.ns = ns
        self.tool = tool
        self.dir = ns.workdir / "race"
        self.bin = self.dir / "bin"
        self.bin.mkdir(parents=True)
        self.marker = self.dir / "fired"
        self.armed = self.dir / "armed"
        self.log = self.dir / "calls"
        self.log.touch()
        self.commands: list[list[str]] = []
        ns.env["PATH"] = f"{self.bin}:{ns.env['PATH']}"

    def arm(self, family: str, commands: Sequence[Sequence[str]]) -> None:
        """The first call of ``family``'s tool runs ``iptables ARGS`` for each command."""
        self.commands = [list(c) for c in commands]
        iptables = real_tool(self.ns.variant, family)
        env = ""
        if self.tool == "save":
            env = "XTABLES_LOCKFILE=%s " % shlex.quote(str(self.dir / "foreign.lock"))
        q = shlex.quote
        actions = "".join(
            _ACTION.format(
                env=env,
                iptables=q(iptables),
                args=" ".join(q(a) for a in cmd),
                log=q(str(self.log)),
            )
            for cmd in self.commands
        )
        real = real_tool(self.ns.variant, family, self.tool)
        base = BASE[family]
        for name in (f"{base}-{self.ns.variant}-{self.tool}", f"{base}-{self.tool}"):
            fields = dict(
                name=name,
                real=q(real),
                log=q(str(self.log)),
                armed=q(str(self.armed)),
                marker=q(str(self.marker)),
                actions=actions,
            )
            body = _HEAD.format(**fields) + (_RESTORE if self.tool == "restore" else _SAVE).format(
                **fields
            )
            path = self.bin / name
            path.write_text(body)
            path.chmod(0o755)
        self.armed.touch()

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def assert_fired(self) -> None:
        """The writer acted exactly once, and each of its commands succeeded."""
        log = self.calls()
        assert self.marker.exists(), f"the race wrapper never ran its writer; calls: {log}"
        fired = [line for line in log if line.startswith("fired ")]
        assert len(fired) == 1, f"the writer acted {len(fired)} times: {log}"
        rcs = [line for line in log if line.startswith("action rc=")]
        assert len(rcs) == len(self.commands), f"foreign commands did not all run: {log}"
        bad = [line for line in rcs if not line.startswith("action rc=0 ")]
        assert not bad, f"a foreign command failed: {log}"

    def tool_calls(self) -> int:
        """How many times the module (and the test) called the wrapped tools."""
        return sum(1 for line in self.calls() if line.startswith("call "))
