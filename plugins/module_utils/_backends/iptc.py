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
    describe_line,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.constants import (
    PROTO_NUMBERS,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import parse_save
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import tokenize


class IptcBackend:
    """python-iptables (libiptc), for hosts on the legacy variant only.

    Uses: the imported iptc module, run/which for iptables-legacy-save (the
    canonical printer used to read and to verify), and the xtables lock file.
    One commit per table with autocommit off; after the commit the table is read
    back and must equal the planned state."""

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
        iptc = self.iptc
        for plan in plans:
            if not plan.changed:
                continue
            cls = iptc.Table if family == "ipv4" else iptc.Table6
            table = cls(plan.before.name)
            table.autocommit = False
            table.refresh()
            rule_cls = self._rule_class(family, table)
            line = None
            try:
                for line in plan.lines:
                    self._op(table, rule_cls, tokenize(line))
                table.commit()
            except (iptc.IPTCError, iptc.XTablesError, ValueError, AttributeError) as e:
                raise BackendError(
                    "python-iptables failed on table %s (%s), nothing of it was committed: %s%s"
                    % (plan.before.name, family, e, describe_line(line))
                ) from e
            finally:
                table.refresh()
                table.close()
        self._verify(family, plans)

    def _verify(self, family, plans):
        tables = parse_save(self.read(family))
        for plan in plans:
            if not plan.changed:
                continue
            got = tables.get(plan.before.name)
            want = plan.after
            if got is None:
                raise BackendError("table %s vanished after the commit" % want.name)
            for name, ch in want.chains.items():
                have = got.chains.get(name)
                if have is None or [r.tokens for r in have.rules] != [r.tokens for r in ch.rules]:
                    raise BackendError(
                        "python-iptables committed chain %s of table %s (%s) differently from "
                        "the plan; check it with iptables-legacy-save" % (name, want.name, family)
                    )

    def _rule_class(self, family, table):
        """A Rule class that looks only at the table being changed: python-iptables
        otherwise opens every table to tell a chain jump from a target, and on a
        legacy kernel opening a table creates it."""
        base = self.iptc.Rule if family == "ipv4" else self.iptc.Rule6

        class OneTableRule(base):
            tables = property(lambda _self: [table])

        return OneTableRule

    def _op(self, table, rule_cls, words):
        iptc = self.iptc
        op, chain = words[0], words[1]
        if op == "-N":
            table.create_chain(chain)
        elif op == "-X":
            table.delete_chain(chain)
        elif op == "-F":
            table.flush_entries(chain)
        elif op == "-P":
            table.set_policy(chain, words[2])
        elif op == "-D":
            rv = table._iptc.iptc_delete_num_entry(chain.encode(), int(words[2]) - 1, table._handle)
            if rv != 1:
                raise iptc.IPTCError("can't delete rule %s of %s" % (words[2], chain))
        else:
            ch = iptc.Chain(table, chain)
            if op == "-A":
                ch.append_rule(self._rule(rule_cls, words[2:]))
            elif op == "-I":
                ch.insert_rule(self._rule(rule_cls, words[3:]), int(words[2]) - 1)
            elif op == "-R":
                ch.replace_rule(self._rule(rule_cls, words[3:]), int(words[2]) - 1)
            else:
                raise ValueError("unsupported operation %s" % op)

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
            if t in ("-s", "-d", "-i", "-o", "-p"):
                arg = tokens[i + 1]
                if t == "-p":  # python-iptables' own name table lacks ipv6-icmp
                    arg = str(PROTO_NUMBERS.get(arg, arg))
                value = ("!" if neg else "") + arg
                attr = {"-s": "src", "-d": "dst", "-i": "in_interface", "-o": "out_interface"}
                setattr(rule, attr.get(t, "protocol"), value)
                if family == "ipv6" and t in ("-i", "-o"):
                    _fix_ipv6_iface_mask(rule, t, tokens[i + 1])
                i += 2
            elif t == "-f":
                rule.fragment = not neg
                i += 1
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
