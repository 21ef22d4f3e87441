# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The no-op memo of hostfw.netfilter.ruleset.

Most runs of a fleet change nothing. Planning is a pure function of the task
(config, state, ignore, families, variant, the collection's code) and the
host's tables, so when both are exactly what an earlier run saw (or left
behind), the earlier outcome - nothing to change - still holds, and the module
can answer after one iptables-save per family without validating thousands of
rules again.

An entry is keyed by a digest of the task and holds a digest of each family's
tables. The tables' digest ignores what does not change the rules: the save's
comment lines, chain counters, and the order in which chains are listed. A
wrong guess can only cost speed: any difference in the tables or the task means
a miss and the full path. Entries live in /var/cache/hostfw-netfilter (one small
file per task); HOSTFW_NETFILTER_CACHE_DIR overrides the place, and an empty
value turns the memo off."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import importlib
import inspect
import json
import os
import pkgutil
import tempfile

from ansible_collections.hostfw.netfilter.plugins.module_utils import _iptables, _plan, _rules
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import render_table
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import split_blanks

FORMAT = 1
DEFAULT_DIR = "/var/cache/hostfw-netfilter"
_CODE = []


def _planning_modules():
    """Every module of the packages that decide a plan (the vocabulary, the
    dialect, planning) and this one, whole packages rather than a hand-kept list."""
    mods = [importlib.import_module(__name__)]
    for pkg in (_rules, _iptables, _plan):
        mods.append(pkg)
        names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__))
        mods.extend(importlib.import_module("%s.%s" % (pkg.__name__, n)) for n in names)
    return mods


def code_digest():
    """Digest of the code that decides a plan: a new collection version never
    trusts an entry written by another."""
    if not _CODE:
        h = hashlib.sha256(b"%d" % FORMAT)
        for mod in _planning_modules():
            h.update(mod.__name__.encode("utf-8") + b"\0")
            try:
                h.update(inspect.getsource(mod).encode("utf-8"))
            except (OSError, TypeError):  # no source available: never reuse entries
                h.update(os.urandom(16))
        _CODE.append(h.hexdigest())
    return _CODE[0]


def task_digest(parts, config_bytes):
    """Digest of everything in the task that decides the plan."""
    h = hashlib.sha256(code_digest().encode("ascii"))
    h.update(json.dumps(parts, sort_keys=True).encode("utf-8"))
    h.update(b"\0")
    h.update(config_bytes)
    return h.hexdigest()


def task_key(params, families, backend, src_bytes=None):
    """The memo key of a ruleset task: its parameters that decide the plan, the
    backend's name and variant, and the config (the src file's bytes, or the
    config option in a canonical JSON form)."""
    config_bytes = src_bytes
    if config_bytes is None:
        config = json.dumps(params["config"], sort_keys=True, separators=(",", ":"))
        config_bytes = config.encode("utf-8")
    parts = dict(
        state=params["state"],
        families=list(families),
        ignore=params["ignore"],
        before_after=params["before_after"],
        backend=backend.name,
        variant=backend.variant,
    )
    return task_digest(parts, config_bytes)


def save_digest(text):
    """Digest of one family's iptables-save text, ignoring comment lines, chain
    counters and the order of chain declarations and of the chains' rule blocks
    (rule order within a chain counts)."""
    tables = []
    name = None
    decls, blocks = [], {}
    for line in text.split("\n"):  # not splitlines(): comments may hold U+2028
        if not line or line[0] == "#":
            continue
        c = line[0]
        if c == "-":
            blocks.setdefault(line.split(" ", 2)[1], []).append(line)
        elif c == ":":
            decls.append(" ".join(split_blanks(line[1:])[:2]))
        elif c == "*":
            name, decls, blocks = line, [], {}
        elif line == "COMMIT" and name is not None:
            body = [name] + sorted(decls)
            for chain in sorted(blocks):
                body.extend(blocks[chain])
            tables.append("\n".join(body))
            name = None
    tables.sort()
    return hashlib.sha256("\n\n".join(tables).encode("utf-8")).hexdigest()


def tables_digest(tables):
    """save_digest of the text the kernel would print for {name: Table}."""
    return save_digest("".join(render_table(t) for t in tables.values()))


class Memo:
    """One file per task digest: {"tables": {family: digest}, "result": {...}}."""

    def __init__(self, directory=None):
        if directory is None:
            directory = os.environ.get("HOSTFW_NETFILTER_CACHE_DIR", DEFAULT_DIR)
        self.directory = directory or None

    def _path(self, key):
        return os.path.join(self.directory, "ruleset-%s.json" % key)

    def lookup(self, key, digests):
        if not self.directory:
            return None
        try:
            with open(self._path(key)) as f:
                entry = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("tables") != digests:
            return None
        return entry.get("result")

    def recall(self, key, texts):
        """The entry's {"result", "warnings"} when the host's save texts
        {family: text} are those it was stored against, else None."""
        return self.lookup(key, {fam: save_digest(text) for fam, text in texts.items()})

    def remember(self, key, texts, current, plans, result, warnings, applied):
        """After a full run: a no-op is remembered against the tables it read
        (`texts`); an applied change against the tables it left (`current` with
        the plans' after tables, as the kernel will print them), with the answer
        the next, unchanged run would give."""
        if not result["changed"]:
            digests = {fam: save_digest(text) for fam, text in texts.items()}
            self.store(key, digests, dict(result=result, warnings=warnings))
        elif applied:
            digests = {}
            for fam, tables in current.items():
                after = dict(tables)
                after.update((pl.after.name, pl.after) for pl in plans if pl.family == fam)
                digests[fam] = tables_digest(after)
            noop = dict(changed=False, commands={}, before=result["after"])
            self.store(key, digests, dict(result=noop, warnings=warnings))

    def store(self, key, digests, result):
        """Best effort: a memo that cannot be written is only a slower next run."""
        if not self.directory:
            return
        tmp = None
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".ruleset-")
            with os.fdopen(fd, "w") as f:
                json.dump({"tables": digests, "result": result}, f)
            os.rename(tmp, self._path(key))
        except (OSError, TypeError, ValueError):
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
