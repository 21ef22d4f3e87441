"""Network namespaces for the kernel tests (tests/kernel/), which let the kernel judge
the model.

Every command runs inside a namespace created here (``hfwu-<pid>-<n>``) and deleted
again, also when a test fails: the machine's own firewall is never touched.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess

import pytest

VARIANTS = ("nft", "legacy")
FAMILIES = ("ipv4", "ipv6")
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"
_PATH = f"{os.environ.get('PATH', '')}:{_SBIN}"
_counter = itertools.count(1)


def _which(name):
    return shutil.which(name, path=_PATH)


def tool(variant, family, what=None):
    """``iptables-nft-save``, ``ip6tables-legacy-restore``, ``iptables-nft``..."""
    head = "ip6tables" if family == "ipv6" else "iptables"
    return f"{head}-{variant}" + (f"-{what}" if what else "")


_NEEDED = ["ip"] + [
    tool(v, f, w) for v in VARIANTS for f in FAMILIES for w in ("save", "restore", None)
]
MISSING = [n for n in _NEEDED if not _which(n)]
needs_kernel = pytest.mark.skipif(
    bool(MISSING) or os.geteuid() != 0,
    reason=f"needs root and the iptables tools (missing: {', '.join(MISSING) or 'none'})",
)
HAVE_IPSET = bool(_which("ipset"))


class NetnsError(RuntimeError):
    pass


class Namespace:
    """One network namespace, created on construction; ``close()`` deletes it."""

    def __init__(self):
        self.name = f"hfwu-{os.getpid()}-{next(_counter)}"
        self._ip = _which("ip")
        subprocess.run([self._ip, "netns", "add", self.name], check=True, capture_output=True)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
        except BaseException:
            self.close()
            raise

    def run(self, argv, input=None, check=True):
        """Run an argument list inside the namespace; returns CompletedProcess."""
        exe = _which(argv[0]) or argv[0]
        proc = subprocess.run(
            [self._ip, "netns", "exec", self.name, exe, *argv[1:]],
            input=input,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise NetnsError(
                f"{' '.join(argv)} failed ({proc.returncode}) in {self.name}:\n"
                f"{proc.stderr}\n--- input ---\n{input or ''}"
            )
        return proc

    def restore(self, variant, family, text, noflush=True, check=True):
        argv = [tool(variant, family, "restore")] + (["--noflush"] if noflush else [])
        return self.run(argv, input=text, check=check)

    def save(self, variant, family, table=None):
        argv = [tool(variant, family, "save")] + (["-t", table] if table else [])
        return self.run(argv).stdout

    def close(self):
        subprocess.run([self._ip, "netns", "delete", self.name], check=False, capture_output=True)


@contextlib.contextmanager
def namespace():
    ns = Namespace()
    try:
        yield ns
    finally:
        ns.close()


def host_state(ns, variant):
    """{family: {table: Table}} of the namespace's saves."""
    from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE

    return {fam: SAVE.parse_save(ns.save(variant, fam)) for fam in FAMILIES}


def host_fixture(saves):
    """A module-scoped pytest fixture: (variant, namespace) with `saves`
    ({family: save text}) restored, once per variant."""

    @pytest.fixture(scope="module", params=VARIANTS)
    def host(request):
        with namespace() as ns:
            for fam in FAMILIES:
                ns.restore(request.param, fam, saves[fam])
            yield request.param, ns

    return host
