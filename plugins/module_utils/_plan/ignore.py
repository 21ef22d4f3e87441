# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``ignore`` protects: regular expressions over chain names and parts of
rules, and the user chains that protected rules jump to; and a chain's
``ignored_slot``, the place the kept rules it selects are gathered. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.placement import named
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

# options whose value is the interface name (iptables-save prints the short form)
_INTERFACE_FLAGS = frozenset(("-i", "-o", "--in-interface", "--out-interface"))


class Ignore:
    """The `ignore` regexes, searched (``re.search``, not anchored) over:

    - chain names (`chain`): a matching chain is not touched at all;
    - these parts of a rule (`rule`), each on its own: its comment (the whole
      kernel comment, ``hostfw:NAME ...`` included), its jump/goto target, the
      interface name of each ``-i``/``-o`` (Docker's FORWARD rules name only
      ``docker0`` / ``br-*``), and the set name of each ``--match-set`` (fail2ban's
      ipset actions: ``-m set --match-set f2b-sshd src -j REJECT``).

    Nothing else of a rule is searched: not its addresses, ports, other match
    options, nor the name of the chain it is in."""

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
        return any(r.search(value) for value in rule_parts(rule) for r in self.regexes)


def rule_parts(rule):
    """The texts of a rule that `ignore` searches, in order: comment, target,
    then the interface names and set names as they appear in its tokens."""
    out = [v for v in (rule.comment, rule.target) if v is not None]
    toks = rule.tokens
    i, last = 0, len(toks) - 1
    while i < last:
        t = toks[i]
        if t in _INTERFACE_FLAGS or t == "--match-set":
            out.append(toks[i + 1])
            i += 2
        elif t == "--comment":  # a comment's text is never read as an option
            i += 2
        else:
            i += 1
    return out


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


class IgnoredSlot:
    """A chain entry's ``ignored_slot``: under replaced/overridden, the rules
    `ignore` keeps in the chain that `match` also selects (the same parts of a
    rule searched) are gathered, in their current order, immediately in front of
    the first wanted rule named `before` (NAME or NAME#k) - or at the end of the
    chain when `before` is None or the family's rules have no such rule."""

    __slots__ = ("match", "before")

    def __init__(self, match, before=None):
        self.match = match if isinstance(match, Ignore) else Ignore(match)
        self.before = before

    def takes(self, rule):
        return self.match.rule(rule)

    def index(self, wanted):
        """Where the slot is in list `wanted`: the index of the rule it precedes."""
        if self.before is not None:
            found = named(wanted, self.before)
            if found:
                return found[0]
        return len(wanted)


_SLOT_KEYS = ("match", "before")


def compile_ignored_slot(where, value, rule_lists):
    """Validate a chain entry's ``ignored_slot`` (None when absent) against the
    chain's compiled rules (`rule_lists`: a list of Rule per family, or None).
    -> IgnoredSlot or None; RuleError naming `where` and the key."""
    if value is None:
        return None

    def fail(msg):
        raise RuleError("%s: key 'ignored_slot': %s" % (where, msg))

    if not isinstance(value, dict):
        fail("must be a mapping with 'match' and optionally 'before', got %r" % (value,))
    unknown = sorted(str(k) for k in value if k not in _SLOT_KEYS)
    if unknown:
        fail("unknown key %r (known: match, before)" % unknown[0])
    match = value.get("match")
    if isinstance(match, str):
        match = [match]
    if not isinstance(match, list) or not match or not all(isinstance(m, str) for m in match):
        fail("'match' must be a regular expression or a non-empty list of them")
    for m in match:
        try:
            re.compile(m)
        except re.error as e:
            fail("'match': %r is not a valid regular expression: %s" % (m, e))
    before = value.get("before")
    if before is not None:
        if not isinstance(before, str) or not before:
            fail("'before' must be the name of a rule of this chain, got %r" % (before,))
        if not any(named(rules, before) for rules in rule_lists if rules):
            fail("'before' names %r, which is not a rule of this chain" % before)
    return IgnoredSlot(match, before)
