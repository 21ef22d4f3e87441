# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``ignore`` protects: regular expressions over chain names and parts of
rules, and the user chains that protected rules jump to. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError


class Ignore:
    """The `ignore` regexes: chain names, rule comments, jump/goto targets."""

    def __init__(self, patterns):
        self.regexes = []
        for p in patterns or ():
            try:
                self.regexes.append(re.compile(p))
            except re.error as e:
                raise RuleError("ignore: %r is not a valid regular expression: %s" % (p, e)) from e

    def chain(self, name):
        return any(r.search(name) for r in self.regexes)

    def rule(self, rule):
        if not self.regexes:
            return False
        values = [rule.comment, rule.target]
        toks = rule.tokens
        for i, t in enumerate(toks[:-1]):
            if t in ("-i", "-o"):  # Docker's FORWARD rules name only docker0 / br-*
                values.append(toks[i + 1])
        return any(
            value is not None and any(r.search(value) for r in self.regexes) for value in values
        )


def protected(table, managed, ignore):
    """User chains never touched: those `ignore` matches and, transitively, those
    that ignored rules or protected chains jump to (unless listed in config)."""
    seeds = [n for n in table.chains if ignore.chain(n)]
    seeds += [r.target for ch in table.chains.values() for r in ch.rules if ignore.rule(r)]
    protected = set()
    while seeds:
        n = seeds.pop()
        ch = table.chains.get(n)
        if n in protected or n in managed or ch is None or ch.builtin:
            continue
        protected.add(n)
        seeds.extend(r.target for r in ch.rules if r.target is not None)
    return protected
