# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of one table: the transaction that turns the host's table into the
planned one. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib


class TablePlan:
    """The transaction for one table of one family and the state it leads to."""

    def __init__(self, family, before, after, lines, warnings):
        self.family = family
        self.before = before
        self.after = after
        self.lines = lines
        self.warnings = warnings

    @property
    def changed(self):
        return bool(self.lines)

    def restore_text(self):
        return "*%s\n%s\nCOMMIT\n" % (self.before.name, "\n".join(self.lines))


def _edit(chain, cur, target, lines):
    """Append the -D/-I/-A/-R lines that turn list `cur` into list `target`."""
    if [r.tokens for r in cur] == [r.tokens for r in target]:
        return
    sm = difflib.SequenceMatcher(
        None, [r.key for r in cur], [r.key for r in target], autojunk=False
    )
    pos = 0
    length = len(cur)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                new = target[j1 + k]
                if cur[i1 + k].tokens != new.tokens:
                    lines.append("-R %s %d %s" % (chain, pos + 1, new.text()))
                pos += 1
            continue
        for _i in range(i1, i2):
            lines.append("-D %s %d" % (chain, pos + 1))
            length -= 1
        for j in range(j1, j2):
            spec = target[j].text()
            if pos == length:
                lines.append("-A %s %s" % (chain, spec))
            else:
                lines.append("-I %s %d %s" % (chain, pos + 1, spec))
            pos += 1
            length += 1


def transition(current, after):
    """The restore lines that turn table `current` into table `after` exactly."""
    lines, policies = [], []
    for name, ch in after.chains.items():
        if name not in current.chains and not ch.builtin:
            lines.append("-N %s" % name)
    for name, ch in after.chains.items():
        old = current.chains.get(name)
        _edit(name, old.rules if old is not None else [], ch.rules, lines)
        if ch.builtin and ch.policy != (old.policy if old is not None else "ACCEPT"):
            policies.append("-P %s %s" % (name, ch.policy))
    lines.extend(policies)
    gone = [n for n in current.chains if n not in after.chains]
    lines.extend("-F %s" % n for n in gone if current.chains[n].rules)
    lines.extend("-X %s" % n for n in gone)
    return lines
