"""Network namespaces, reachability probes and an Ansible runner for integration tests.

Everything here runs inside network namespaces this module creates (``hfw-<pid>-<n>``)
and deletes again; nothing touches the firewall of the machine itself. The pytest
fixtures that wrap it live in ``conftest.py``; see ``README.md`` for the overview.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = REPO_ROOT / "build" / "collections"
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"

NS_PREFIX = f"hfw-{os.getpid()}-"
_NS_RE = re.compile(r"^hfw-(\d+)-\d+$")
_counter = itertools.count(1)

VARIANTS = ("nft", "legacy")
FAMILIES = ("ipv4", "ipv6")
TOOLS = ("iptables", "iptables-save", "iptables-restore")
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"

# The addresses of a server/client pair (documentation ranges only).
PAIR_ADDRS = {
    "server": {"ipv4": "192.0.2.1", "ipv6": "2001:db8::1"},
    "client": {"ipv4": "192.0.2.2", "ipv6": "2001:db8::2"},
}
PREFIXLEN = {"ipv4": 24, "ipv6": 64}
DEFAULT_TIMEOUT = 1.5


def _which(name: str) -> str:
    found = shutil.which(name, path=f"{os.environ.get('PATH', '')}:{_SBIN}")
    if not found:
        raise RuntimeError(f"{name} not found on PATH or in {_SBIN}")
    return found


IP = _which("ip")


class CommandError(subprocess.CalledProcessError):
    """A failed command; unlike its parent, ``str()`` shows stdout and stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstdout: {self.stdout!r}\nstderr: {self.stderr!r}"


def run(argv: Sequence[str], *, check: bool = True, input: str | None = None, **kw: Any):
    """Run an argument list (never a shell string), capture text output."""
    proc = subprocess.run(
        list(argv), check=False, input=input, capture_output=True, text=True, **kw
    )
    if check and proc.returncode != 0:
        raise CommandError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc


# --------------------------------------------------------------------------- variants


def make_variant_bins(base: Path) -> dict[str, Path]:
    """Create ``base/<variant>/`` dirs of symlinks ``iptables``… -> ``iptables-<variant>``….

    Prepending such a dir to PATH selects the variant for everything started with that
    PATH, ansible-playbook and its modules included. Both variants get a dir, so the
    choice never depends on the host's ``update-alternatives`` setting.
    """
    dirs = {}
    for variant in VARIANTS:
        d = base / variant
        d.mkdir(parents=True, exist_ok=True)
        for tool in TOOLS:
            for fam_tool in (tool, tool.replace("iptables", "ip6tables")):
                head, _sep, tail = fam_tool.partition("-")
                target = _which(f"{head}-{variant}" + (f"-{tail}" if tail else ""))
                link = d / fam_tool
                if not link.is_symlink():
                    link.symlink_to(target)
        dirs[variant] = d
    return dirs


# --------------------------------------------------------------------------- namespaces


def list_namespaces() -> list[str]:
    out = run([IP, "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def delete_namespace(name: str) -> None:
    """Kill what still runs in the namespace (only our own processes can), then delete it."""
    pids = run([IP, "netns", "pids", name], check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    run([IP, "netns", "delete", name], check=False)


def cleanup_namespaces(*, own: bool = True, dead: bool = False) -> list[str]:
    """Delete ``hfw-<pid>-<n>`` namespaces of this process (own) or of dead processes."""
    removed = []
    for name in list_namespaces():
        m = _NS_RE.match(name)
        if not m:
            continue
        pid = int(m.group(1))
        mine = pid == os.getpid()
        if (own and mine) or (dead and not mine and not Path(f"/proc/{pid}").exists()):
            delete_namespace(name)
            removed.append(name)
    return removed


class Netns:
    """One network namespace with loopback up, bound to an iptables variant.

    ``env`` is the environment for every command run in it: PATH starts with the
    variant's dir of ``iptables*`` symlinks. Create through the fixtures, or call
    ``close()`` yourself.
    """

    def __init__(self, variant: str, bin_dir: Path, workdir: Path, name: str | None = None):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
        self.name = name or f"{NS_PREFIX}{next(_counter)}"
        self.variant = variant
        self.workdir = workdir
        # SSH_CONNECTION of a developer's own session must not reach the modules'
        # protect_connection: tests that want it set it on the task.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}
        self.env = {**inherited, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}:{_SBIN}"}
        self.addrs: dict[str, str] = {}
        self._listeners: list[Listener] = []
        self._runs = itertools.count(1)
        run([IP, "netns", "add", self.name])
        try:
            self.run([IP, "link", "set", "lo", "up"])
        except BaseException:
            delete_namespace(self.name)
            raise

    def __repr__(self) -> str:
        return f"<Netns {self.name} {self.variant}>"

    # ----------------------------------------------------------------- commands
    def argv(self, argv: Sequence[str]) -> list[str]:
        """The argument list that runs ``argv`` inside this namespace."""
        if isinstance(argv, str):
            raise TypeError("argv must be a list of arguments, not a string")
        return [IP, "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], check: bool = True, input: str | None = None, **kw: Any):
        """Run ``argv`` in the namespace; returns ``CompletedProcess`` with text output."""
        kw.setdefault("env", self.env)
        return run(self.argv(argv), check=check, input=input, **kw)

    def iptables(self, *args: str, family: str = "ipv4", check: bool = True):
        """Run ``iptables ARGS`` (``ip6tables`` for ipv6) of this namespace's variant."""
        return self.run([_tool("iptables", family), *args], check=check)

    def save(self, family: str = "ipv4") -> str:
        """``iptables-save`` / ``ip6tables-save`` output of this namespace's variant."""
        return self.run([_tool("iptables-save", family)]).stdout

    def restore(self, text: str, family: str = "ipv4", noflush: bool = True) -> None:
        argv = [_tool("iptables-restore", family)] + (["--noflush"] if noflush else [])
        self.run(argv, input=text)

    def addr(self, family: str = "ipv4") -> str:
        """This namespace's address on the veth link (only for ``netpair`` members)."""
        return self.addrs[family]

    # ----------------------------------------------------------------- probes
    @contextlib.contextmanager
    def listen(self, port: int = 0, family: str = "ipv4", bind: str | None = None):
        """Context manager: a TCP listener in this namespace; yields it (``.port``)."""
        listener = Listener(self, port, family, bind)
        self._listeners.append(listener)
        try:
            yield listener
        finally:
            listener.stop()
            self._listeners.remove(listener)

    def connect(self, addr: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Try a TCP connect from this namespace: 'open', 'refused', 'timeout',
        'unreachable' or 'error:<ERRNO>'."""
        proc = self.run(
            [sys.executable, "-I", "-S", "-c", _CONNECT, addr, str(port), str(timeout)],
            timeout=timeout + 10,
        )
        return proc.stdout.strip()

    def assert_reachable(self, addr: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        assert_reachable(self, addr, port, timeout)

    def assert_blocked(
        self, addr: str, port: int, expect: str | None = "timeout", timeout=DEFAULT_TIMEOUT
    ) -> None:
        assert_blocked(self, addr, port, expect, timeout)

    # ----------------------------------------------------------------- ansible
    def playbook(self, tasks: Sequence[Mapping[str, Any]], **kw: Any) -> list[dict]:
        return run_playbook(self, tasks, **kw)

    def module(self, module_name: str, args: Any = None, **kw: Any) -> dict:
        return run_module(self, module_name, args, **kw)

    # ----------------------------------------------------------------- teardown
    def close(self) -> None:
        for listener in list(self._listeners):
            listener.stop()
        self._listeners.clear()
        delete_namespace(self.name)

    def exists(self) -> bool:
        return self.name in list_namespaces()


def _tool(tool: str, family: str) -> str:
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, not {family!r}")
    return tool if family == "ipv4" else tool.replace("iptables", "ip6tables")


def connect_pair(server: Netns, client: Netns) -> None:
    """Join two namespaces by a veth pair (``eth0`` in each) with the PAIR_ADDRS."""
    peer = ["peer", "name", "eth0", "netns", client.name]
    run([IP, "-n", server.name, "link", "add", "eth0", "type", "veth", *peer])
    for ns, role in ((server, "server"), (client, "client")):
        for family, address in PAIR_ADDRS[role].items():
            argv = ["addr", "add", f"{address}/{PREFIXLEN[family]}", "dev", "eth0"]
            run([IP, "-n", ns.name, *argv] + (["nodad"] if family == "ipv6" else []))
            ns.addrs[family] = address
        run([IP, "-n", ns.name, "link", "set", "eth0", "up"])


# --------------------------------------------------------------------------- TCP probes

_LISTEN = """
import socket, sys
port, family, bind = int(sys.argv[1]), sys.argv[2], sys.argv[3]
fam = socket.AF_INET6 if family == "ipv6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if fam == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind((bind, port))
s.listen(64)
print("ready", s.getsockname()[1], flush=True)
while True:
    c, _peer = s.accept()
    try:
        c.sendall(b"hfw\\n")
    except OSError:
        pass
    c.close()
"""

_CONNECT = """
import errno, socket, sys
addr, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(timeout)
try:
    s.connect((addr, port))
    print("open")
except socket.timeout:
    print("timeout")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        print("unreachable")
    else:
        print("error:" + errno.errorcode.get(e.errno, str(e.errno)))
"""


class Listener:
    """A python3 TCP server in a namespace; accepts, says ``hfw``, closes."""

    def __init__(self, ns: Netns, port: int, family: str, bind: str | None):
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, not {family!r}")
        bind = bind if bind is not None else ("::" if family == "ipv6" else "0.0.0.0")
        argv = [sys.executable, "-I", "-S", "-c", _LISTEN, str(port), family, bind]
        self.family = family
        self.proc = subprocess.Popen(
            ns.argv(argv), env=ns.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            line = self.proc.stdout.readline() if sel.select(timeout=10) else ""
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(f"listener in {ns.name} did not start: {self.proc.stderr.read()}")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


def assert_reachable(client: Netns, addr: str, port: int, timeout=DEFAULT_TIMEOUT) -> None:
    state = client.connect(addr, port, timeout)
    assert state == "open", f"{addr} port {port} from {client.name}: {state}, expected open"


def assert_blocked(
    client: Netns, addr: str, port: int, expect: str | None = "timeout", timeout=DEFAULT_TIMEOUT
) -> None:
    """Assert a connect does not get through.

    ``expect`` is the state a filtering rule should cause: 'timeout' (DROP, the
    default) or 'refused'/'unreachable' (REJECT); ``None`` accepts anything but 'open'.
    Keep a listener on the port, or 'refused' proves nothing about the firewall.
    """
    state = client.connect(addr, port, timeout)
    if expect is None:
        assert state != "open", f"{addr} port {port} from {client.name} is open"
    else:
        assert state == expect, f"{addr} port {port} from {client.name}: {state}, expected {expect}"


# --------------------------------------------------------------------------- Ansible


class AnsibleRunError(RuntimeError):
    """ansible-playbook failed without task results (syntax error, unknown module…)."""


def ensure_collection_link() -> Path:
    """``make collection-link``: build/collections/ansible_collections/hostfw/netfilter."""
    link = COLLECTIONS_PATH / "ansible_collections" / "hostfw" / "netfilter"
    if not (link.is_symlink() and link.resolve() == REPO_ROOT):
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".netfilter.{os.getpid()}")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(REPO_ROOT)
        tmp.replace(link)
    return COLLECTIONS_PATH


def _ansible_playbook() -> str:
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else _which("ansible-playbook")


_ANSIBLE_CFG = """\
[defaults]
collections_path = {collections}
callback_plugins = {callbacks}
callbacks_enabled = hfw_results
stdout_callback = default
interpreter_python = {python}
localhost_warning = False
retry_files_enabled = False
gathering = explicit
forks = 1
local_tmp = {tmp}/local
remote_tmp = {tmp}/remote
nocolor = True

[inventory]
inventory_unparsed_warning = False

[connection]
pipelining = True
"""


def run_playbook(
    ns: Netns,
    tasks: Sequence[Mapping[str, Any]],
    *,
    check: bool = False,
    diff: bool = False,
    extra_vars: Mapping[str, Any] | None = None,
    timeout: float = 300,
    memo: bool = False,
    play: Mapping[str, Any] | None = None,
) -> list[dict]:
    """Run ``tasks`` with ansible-playbook inside ``ns`` (local connection).

    ``play``: play keywords (``module_defaults``, ``environment``...).

    ``memo``: let hostfw.netfilter.ruleset remember no-op runs (in the namespace's
    work directory). Off by default, so that every run exercises the planner.

    Returns one dict per task result, in order, as the module returned it (plus
    ``failed``/``skipped``, ``_task``, ``_action``). A failed task is a result with
    ``failed=True``, and the tasks after it do not run. Raises ``AnsibleRunError``
    when ansible-playbook fails without any task result.
    """
    rundir = Path(tempfile.mkdtemp(prefix=f"run{next(ns._runs)}-", dir=ns.workdir))
    playbook = rundir / "playbook.yml"
    head = {"hosts": "all", "gather_facts": False, **(play or {})}
    playbook.write_text(
        yaml.safe_dump([{**head, "tasks": [dict(t) for t in tasks]}], sort_keys=False)
    )
    cfg = rundir / "ansible.cfg"
    cfg.write_text(
        _ANSIBLE_CFG.format(
            collections=ensure_collection_link(),
            callbacks=CALLBACK_DIR,
            python=sys.executable,
            tmp=rundir,
        )
    )
    results_file = rundir / "results.jsonl"
    env = {k: v for k, v in ns.env.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(cfg), HFW_RESULTS_FILE=str(results_file))
    env["HOSTFW_NETFILTER_CACHE_DIR"] = str(ns.workdir / "memo") if memo else ""
    argv = [_ansible_playbook(), "-i", "localhost,", "-c", "local", str(playbook)]
    argv += ["--check"] * check + ["--diff"] * diff
    if extra_vars:
        argv += ["-e", json.dumps(dict(extra_vars))]
    proc = ns.run(argv, check=False, env=env, cwd=rundir, timeout=timeout)
    (rundir / "stdout.txt").write_text(proc.stdout)
    (rundir / "stderr.txt").write_text(proc.stderr)
    results = []
    if results_file.exists():
        results = [json.loads(line) for line in results_file.read_text().splitlines()]
    if proc.returncode not in (0, 2) and not any(r.get("failed") for r in results):
        raise AnsibleRunError(
            f"ansible-playbook exited {proc.returncode} in {ns.name} ({rundir})\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return results


def run_module(
    ns: Netns, module_name: str, args: Any = None, check: bool = False, diff: bool = False
) -> dict:
    """One task ``{module_name: args}`` in ``ns``; returns its result dict."""
    results = run_playbook(
        ns, [{module_name: args if args is not None else {}}], check=check, diff=diff
    )
    if len(results) != 1:
        raise AnsibleRunError(f"expected one result from {module_name}, got {results!r}")
    return results[0]


if __name__ == "__main__":
    # Manual clean-up after killed runs: `python tests/integration/_netns.py --stale`.
    if sys.argv[1:] != ["--stale"]:
        sys.exit("usage: _netns.py --stale   (delete hfw-<pid>-<n> namespaces of dead pids)")
    print("\n".join(cleanup_namespaces(own=False, dead=True)) or "nothing to remove")
