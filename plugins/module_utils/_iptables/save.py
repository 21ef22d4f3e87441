# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tables and chains as the kernel holds them: parse ``iptables-save`` text and
print it back. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import (
    rule_from_tokens,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.tokens import (
    split_blanks,
    tokenize,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.values import (
    normalise_proto_word,
)


class Chain:
    __slots__ = ("name", "policy", "rules")

    def __init__(self, name, policy=None, rules=None):
        self.name = name
        self.policy = policy  # None for user chains
        self.rules = rules if rules is not None else []

    @property
    def builtin(self):
        return self.policy is not None

    def copy(self):
        return Chain(self.name, self.policy, list(self.rules))


class Table:
    __slots__ = ("name", "chains")

    def __init__(self, name, chains=None):
        self.name = name
        self.chains = chains if chains is not None else {}

    @classmethod
    def empty(cls, name):
        """A table the host does not show yet: its built-in chains, empty, ACCEPT."""
        return cls(name, {c: Chain(c, "ACCEPT") for c in V.BUILTIN_CHAINS.get(name, ())})

    def copy(self):
        return Table(self.name, {n: c.copy() for n, c in self.chains.items()})


def parse_save(text):
    """Parse iptables-save / ip6tables-save output (with or without -c)
    into {table name: Table}, keeping chain and rule order.

    Lines end at "\n" only, words at ASCII spaces and tabs only:
    str.splitlines() and str.split() would also break at U+2028, U+2029,
    U+0085, \x1c-\x1f, \x0b or \x0c, which a comment or a foreign chain name
    may hold (iptables-save prints them as they are)."""
    tables = {}
    table = None
    for line in text.split("\n"):
        if not line or line[0] == "#":
            continue
        c = line[0]
        if c == "*":
            table = Table(line[1:].strip(" \t"))
            tables[table.name] = table
        elif c == ":":
            name, policy = split_blanks(line[1:])[:2]
            table.chains[name] = Chain(name, None if policy == "-" else policy)
        elif c == "-" or c == "[":
            counters = None
            if c == "[":
                counters, _sep, line = line.partition(" ")
            words = tokenize(line)
            if len(words) < 2 or words[0] != "-A":
                raise ValueError("unexpected line in save output: %r" % line)
            rest = words[2:]
            if "-p" in rest:
                for i in range(len(rest) - 1):
                    if rest[i] == "-p":
                        rest[i + 1] = normalise_proto_word(rest[i + 1])
            rule = rule_from_tokens(tuple(rest))
            if counters:
                p, _sep, b = counters.strip("[]").partition(":")
                rule.counters = (int(p), int(b))
            chain = table.chains.get(words[1])
            if chain is None:
                chain = table.chains[words[1]] = Chain(words[1])
            chain.rules.append(rule)
    return tables


def render_table(table):
    """Print a table as iptables-save does (without the comment lines)."""
    out = ["*%s" % table.name]
    for chain in table.chains.values():
        out.append(":%s %s [0:0]" % (chain.name, chain.policy or "-"))
    for chain in table.chains.values():
        for rule in chain.rules:
            out.append("-A %s %s" % (chain.name, rule.text()))
    out.append("COMMIT")
    return "\n".join(out) + "\n"
