# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""python-iptables (libiptc), for hosts on the legacy variant only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os

from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.base import BackendError
from ansible_collections.hostfw.netfilter.plugins.module_utils._backends.restore import (
    RestoreBackend,
    describe_op,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import keys as K
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.constants import (
    PROTO_NUMBERS,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import operations as OPS


def import_iptc():
    """The python-iptables module (ImportError, or an OSError when libxtables is
    missing): imported here, the only layer that may."""
    import iptc  # pylint: disable=import-outside-toplevel

    return iptc


class IptcBackend:
    """python-iptables (libiptc), for hosts on the legacy variant only.

    Uses: the imported iptc module, run/which for iptables-legacy-save (the
    canonical printer used to read and to verify), and the xtables lock file.
    One commit per table with autocommit off; operations become libiptc calls
    (delete by specification, insert at an index, append, chain operations)."""

    name = "python_iptables"

    def __init__(self, iptc, run, which, variant):
        if variant != "legacy":
            raise BackendError(
                "backend python_iptables speaks only the legacy iptables API, but this host "
                "uses the nf_tables variant: rules written through it would be enforced yet "
                "invisible to iptables. Use backend: restore (or auto) here."
            )
        self.iptc = iptc
        self.run = run
        self.which = which
        self.variant = variant

    @contextlib.contextmanager
    def lock(self):
        import fcntl

        path = os.environ.get("XTABLES_LOCKFILE", "/run/xtables.lock")
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def read(self, family, counters=False):
        return RestoreBackend(self.run, self.which, "legacy").read(family, counters)

    def foreign_rules(self, family):
        return RestoreBackend(self.run, self.which, "legacy").foreign_rules(family)

    def apply(self, family, plans):
        """One libiptc commit per changed table. The caller reads the result back
        (one save per family) and judges it against the plans."""
        iptc = self.iptc
        for plan in plans:
            if not plan.changed:
                continue
            cls = iptc.Table if family == "ipv4" else iptc.Table6
            table = cls(plan.before.name)
            table.autocommit = False
            table.refresh()
            rule_cls = self._rule_class(family, table)
            op = None
            try:
                for op in plan.ops:
                    self._op(table, rule_cls, op)
                op = None
                table.commit()
            except (iptc.IPTCError, iptc.XTablesError, ValueError, AttributeError) as e:
                raise BackendError(
                    "python-iptables failed on table %s (%s), nothing of it was committed: %s%s"
                    % (plan.before.name, family, e, describe_op(op))
                ) from e
            finally:
                table.refresh()
                table.close()

    def _rule_class(self, family, table):
        """A Rule class that looks only at the table being changed: python-iptables
        otherwise opens every table to tell a chain jump from a target, and on a
        legacy kernel opening a table creates it."""
        base = self.iptc.Rule if family == "ipv4" else self.iptc.Rule6

        class OneTableRule(base):
            tables = property(lambda _self: [table])

        return OneTableRule

    def _op(self, table, rule_cls, op):
        """One operation as libiptc calls (a rule is deleted by its specification:
        libiptc removes the first rule of the chain that equals it)."""
        kind, chain = op.kind, op.chain
        if kind == OPS.NEW_CHAIN:
            table.create_chain(chain)
        elif kind == OPS.DELETE_CHAIN:
            table.delete_chain(chain)
        elif kind == OPS.FLUSH:
            table.flush_entries(chain)
        elif kind == OPS.POLICY:
            table.set_policy(chain, op.policy)
        else:
            ch = self.iptc.Chain(table, chain)
            rule = self._rule(rule_cls, list(op.rule.tokens))
            if kind == OPS.DELETE:
                ch.delete_rule(rule)
            elif kind == OPS.INSERT:
                ch.insert_rule(rule, op.position - 1)
            elif kind == OPS.APPEND:
                ch.append_rule(rule)
            else:
                raise ValueError("unsupported operation %s" % kind)

    def _rule(self, rule_cls, tokens):
        """Build a libiptc rule from canonical tokens, option by option, through
        the xtables extensions' own parsers (never iptc.easy's encoder)."""
        iptc = self.iptc
        rule = rule_cls()
        family = (
            "ipv4" if isinstance(rule, iptc.Rule) and not isinstance(rule, iptc.Rule6) else "ipv6"
        )
        n = len(tokens)
        i = 0
        neg = False
        ext = None
        while i < n:
            t = tokens[i]
            if t == "!":
                neg = True
                i += 1
                continue
            if t in K.ENTRY_FIELDS:  # the base options, from the key table
                field, nargs = K.ENTRY_FIELDS[t]
                if nargs == 0:
                    setattr(rule, field, not neg)
                    i += 1
                    neg = False
                    continue
                arg = tokens[i + 1]
                if t == "-p":  # python-iptables' own name table lacks ipv6-icmp
                    arg = str(PROTO_NUMBERS.get(arg, arg))
                setattr(rule, field, ("!" if neg else "") + arg)
                if family == "ipv6" and t in ("-i", "-o"):
                    _fix_ipv6_iface_mask(rule, t, tokens[i + 1])
                i += 2
            elif t == "-m":
                ext = rule.create_match(tokens[i + 1])
                i += 2
            elif t == "-j":
                ext = rule.create_target(tokens[i + 1])
                i += 2
            elif t == "-g":
                rule.target = iptc.Target(rule, tokens[i + 1], goto=True)
                ext = None
                i += 2
            elif t.startswith("--") and ext is not None:
                j = i + 1
                while j < n and not tokens[j].startswith("-") and tokens[j] != "!":
                    j += 1
                args = tokens[i + 1 : j]
                ext.set_parameter(
                    t[2:], (["!"] if neg else []) + args if (neg or len(args) != 1) else args[0]
                )
                i = j
            else:
                raise ValueError("cannot translate %r for python-iptables" % t)
            neg = False
        return rule


def _fix_ipv6_iface_mask(rule, flag, name):
    """python-iptables writes IPv6 interface masks with 0x01 bytes (its issue
    #244); the kernel expects 0xff for each byte that must match."""
    wildcard = name.endswith("+")
    length = len(name) - 1 if wildcard else len(name) + 1
    mask = b"\xff" * length + b"\x00" * (16 - length)
    if flag == "-i":
        rule.entry.ipv6.iniface_mask = mask
    else:
        rule.entry.ipv6.outiface_mask = mask
