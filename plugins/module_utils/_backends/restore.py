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
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS

_LINE_RE = re.compile(r"Error occurred at line: (\d+)|line (\d+) failed|^line (\d+):", re.M)

_FLAGS = {
    OPS.NEW_CHAIN: "-N",
    OPS.APPEND: "-A",
    OPS.INSERT: "-I",
    OPS.DELETE: "-D",
    OPS.POLICY: "-P",
    OPS.FLUSH: "-F",
    OPS.DELETE_CHAIN: "-X",
}


def render_op(op):
    """One operation as an iptables-restore line: -N C, -A C SPEC, -I C N SPEC,
    -D C SPEC (delete by specification), -P C POLICY, -F C, -X C."""
    if op.kind == OPS.INSERT:
        return "-I %s %d %s" % (op.chain, op.position, op.rule.text())
    if op.rule is not None:
        return "%s %s %s" % (_FLAGS[op.kind], op.chain, op.rule.text())
    if op.kind == OPS.POLICY:
        return "-P %s %s" % (op.chain, op.policy)
    return "%s %s" % (_FLAGS[op.kind], op.chain)


def render_ops(ops):
    return [render_op(op) for op in ops]


def transaction(plans):
    """The restore lines of the changed plans, each table framed once by
    ``*table`` ... ``COMMIT`` (the `commands` result and the backend's input),
    and for each line where it came from: (table name, Op or None)."""
    lines, origins = [], []
    for plan in plans:
        if not plan.changed:
            continue
        name = plan.before.name
        lines.append("*%s" % name)
        origins.append((name, None))
        for op in plan.ops:
            lines.append(render_op(op))
            origins.append((name, op))
        lines.append("COMMIT")
        origins.append((name, None))
    return lines, origins


def restore_text(plans):
    """The iptables-restore input of the changed plans of one family."""
    lines, _origins = transaction(plans)
    return "\n".join(lines) + "\n" if lines else ""


def describe_op(op, line=None):
    """' at `LINE` (rule 'NAME', chain C, table T)' for an error message."""
    if op is None:
        return ""
    parts = []
    if op.rule is not None and op.rule.name:
        parts.append("rule '%s'" % op.rule.name)
    parts.append("chain %s" % op.chain)
    parts.append("table %s" % op.table)
    return " at `%s` (%s)" % (line if line is not None else render_op(op), ", ".join(parts))


def describe_line(lines, origins, n):
    """Where line `n` (1-based) of a transaction came from, for an error message."""
    if not 0 < n <= len(lines):
        return ""
    table, op = origins[n - 1]
    if op is not None:
        return describe_op(op, lines[n - 1])
    if lines[n - 1] == "COMMIT":
        return " at the commit of table %s" % table
    return " at `%s` (table %s)" % (lines[n - 1], table)


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
        # "\n" only, not splitlines(): a comment may hold U+2028, \x1c, \x85...
        # (the empty string after the last "\n" is neither a rule nor a chain)
        return any(
            line.startswith("-A ") or (line.startswith(":") and " DROP " in line)
            for line in out.split("\n")
        )

    def apply(self, family, plans):
        """One iptables-restore --noflush transaction of the changed plans."""
        lines, origins = transaction(plans)
        if not lines:
            return
        argv = [tool(self.which, family, self.variant, "restore")]
        argv += ["-w", str(self.wait)] if self.wait else ["-w"]
        argv.append("--noflush")
        rc, out, err = self.run(argv, data="\n".join(lines) + "\n")
        if rc != 0:
            msg = (err or out).strip()
            m = _LINE_RE.search(msg)
            where = ""
            if m:
                where = describe_line(lines, origins, int(m.group(1) or m.group(2) or m.group(3)))
            raise BackendError(
                "%s-restore rejected the %s transaction, which was not applied%s: %s"
                % (_BASE[family], family, where, msg)
            )
