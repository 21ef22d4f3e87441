# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of bad input, and where they are: table / chain / rule / key. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class RuleError(ValueError):
    """Bad input: the message names the table, chain, rule and key."""


class Ctx:
    """Where a rule sits, for error messages and chain-dependent checks."""

    __slots__ = ("table", "chain", "_label", "_data", "_index")

    def __init__(self, table, chain, label, data=None, index=None):
        self.table = table
        self.chain = chain
        self._label = label  # or None: rule_label(data, index), made only when needed
        self._data = data
        self._index = index

    @property
    def label(self):
        if self._label is None:
            self._label = rule_label(self._data, self._index)
        return self._label

    def fail(self, key, msg):
        where = "table %s, chain %s, %s" % (self.table, self.chain, self.label)
        if key:
            raise RuleError("%s: key '%s': %s" % (where, key, msg))
        raise RuleError("%s: %s" % (where, msg))


def rule_label(data, index):
    """'rule 'ssh' (#3)' in a list; index None for a rule given on its own."""
    name = data.get("name") if isinstance(data, dict) else None
    if index is None:
        return "rule '%s'" % name if name else "the rule"
    if name:
        return "rule '%s' (#%d)" % (name, index)
    return "rule #%d" % index
