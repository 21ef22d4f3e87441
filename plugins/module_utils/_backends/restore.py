# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""iptables-save / iptables-restore -w --noflush of the host's variant."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import re

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.base import (
    _BASE,
    BackendError,
    tool,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import (
    rule_from_tokens,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import tokenize

_LINE_RE = re.compile(r"Error occurred at line: (\d+)|line (\d+) failed|^line (\d+):", re.M)


def _table_at(lines, n):
    for line in reversed(lines[:n]):
        if line.startswith("*"):
            return line[1:]
    return None


def describe_line(line, table=None):
    """' at `LINE` (rule 'NAME', chain C, table T)' for an error message."""
    if not line:
        return ""
    if line.strip() == "COMMIT":
        return " at the commit of table %s" % table
    words = tokenize(line)
    parts = []
    rule = rule_from_tokens(tuple(words[2:])) if len(words) > 2 else None
    if rule is not None and rule.name:
        parts.append("rule '%s'" % rule.name)
    if len(words) > 1:
        parts.append("chain %s" % words[1])
    if table:
        parts.append("table %s" % table)
    return " at `%s` (%s)" % (line, ", ".join(parts))


class RestoreBackend:
    """iptables-save / iptables-restore -w --noflush of the host's variant.

    Uses: run, which, the variant, and `wait` (seconds for the xtables lock)."""

    name = "restore"

    def __init__(self, run, which, variant, wait=None):
        self.run = run
        self.which = which
        self.variant = variant
        self.wait = wait

    @contextlib.contextmanager
    def lock(self):
        # iptables-restore -w takes the xtables lock for its own transaction
        yield

    def read(self, family, counters=False):
        argv = [tool(self.which, family, self.variant, "save")]
        if counters:
            argv.append("-c")
        rc, out, err = self.run(argv)
        if rc != 0:
            raise BackendError("%s-save failed: %s" % (_BASE[family], err.strip()))
        return out

    def foreign_rules(self, family):
        """True when the other variant also holds rules (both are enforced)."""
        other = "legacy" if self.variant == "nf_tables" else "nft"
        path = self.which("%s-%s-save" % (_BASE[family], other))
        if not path:
            return False
        rc, out, _err = self.run([path])
        if rc != 0:
            return False
        return any(
            line.startswith("-A ") or (line.startswith(":") and " DROP " in line)
            for line in out.splitlines()
        )

    def apply(self, family, plans):
        text = "".join(p.restore_text() for p in plans if p.changed)
        if not text:
            return
        argv = [tool(self.which, family, self.variant, "restore")]
        argv += ["-w", str(self.wait)] if self.wait else ["-w"]
        argv.append("--noflush")
        rc, out, err = self.run(argv, data=text)
        if rc != 0:
            msg = (err or out).strip()
            m = _LINE_RE.search(msg)
            where = ""
            if m:
                lines = text.splitlines()
                n = int(m.group(1) or m.group(2) or m.group(3))
                if 0 < n <= len(lines):
                    where = describe_line(lines[n - 1], _table_at(lines, n))
            raise BackendError(
                "%s-restore rejected the %s transaction, which was not applied%s: %s"
                % (_BASE[family], family, where, msg)
            )
