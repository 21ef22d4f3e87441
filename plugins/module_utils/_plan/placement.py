# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where one rule goes in a chain: identity by name, rename, adoption of an
unnamed twin; ``position``/``before``/``after`` as constraints. The pure
planning behind hostfw.netfilter.rule.

A rule mapping compiles to a *group*: the kernel rules of one family it expands
to (one, or one per address of a source/destination list, named NAME#1...)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import shape_of
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.values import DIGITS_RE

POSITIONS = ("append", "prepend")


def parse_position(value):
    """'append', 'prepend', or a 1-based number (int or digit string) -> str|int."""
    if isinstance(value, bool):
        raise RuleError(
            "key 'position': must be append, prepend or a number from 1, got %r" % value
        )
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lower() in POSITIONS:
        return value.strip().lower()
    elif isinstance(value, str) and DIGITS_RE.fullmatch(value.strip(" \t")):
        # ASCII digits only: '²'.isdigit() is true but int('²') fails
        number = int(value.strip(" \t"))
    else:
        raise RuleError(
            "key 'position': must be append, prepend or a number from 1, got %r" % (value,)
        )
    if number < 1:
        raise RuleError("key 'position': rule numbers start at 1, got %d" % number)
    return number


def named(rules, name):
    """Indexes of the rules that carry `name` (or NAME#k, its expansion)."""
    prefix = name + "#"
    return [i for i, r in enumerate(rules) if r.name == name or (r.name or "").startswith(prefix)]


def _without_comment(tokens):
    out = []
    i, n = 0, len(tokens)
    while i < n:
        if tokens[i] == "-m" and i + 1 < n and tokens[i + 1] == "comment":
            i += 2
            continue
        if tokens[i] == "--comment":
            i += 2
            continue
        out.append(tokens[i])
        i += 1
    return tuple(out)


def _identity(rules, group, name, rename_from):
    """Indexes of the rules that are this rule now, and how they were found."""
    if name is None:
        wanted = {r.shape for r in group}
        found = [i for i, r in enumerate(rules) if r.shape in wanted]
        return found, ("match" if found else None)
    found = named(rules, name)
    if found:
        return found, "name"
    if rename_from:
        found = named(rules, rename_from)
        if found:
            return found, "rename"
    # adopt an unnamed rule with the same match (added by hand or by
    # ansible.builtin.iptables): it gets our name and keeps its place
    bare = {shape_of(_without_comment(r.tokens)) for r in group}
    found = [
        i
        for i, r in enumerate(rules)
        if r.name is None and shape_of(_without_comment(r.tokens)) in bare
    ]
    return found, ("adopt" if found else None)


class Placement:
    """The chain's new rule list, whether an existing rule was moved to meet its
    constraint, how the rule was found, and notes for the user."""

    __slots__ = ("rules", "moved", "found", "notes")

    def __init__(self, rules, moved, found, notes):
        self.rules = rules
        self.moved = moved
        self.found = found
        self.notes = notes


def _anchor(others, name, which, notes, label):
    if name is None:
        return None
    idx = named(others, name)
    if not idx:
        notes.append(
            "%s: the rule named %r given in '%s' is not in the chain; the constraint is skipped"
            % (label, name, which)
        )
        return None
    # before X: the slot right before X's first rule; after X: right after its last
    return idx[0] if which == "before" else idx[-1] + 1


def _check_constraints(name, position, before, after, label):
    if isinstance(position, int) and (before or after):
        raise RuleError(
            "%s: key 'position': a rule number cannot be combined with before/after" % label
        )
    for key, other in (("before", before), ("after", after)):
        if other is not None and name is not None and other == name:
            raise RuleError(
                "%s: key '%s': a rule cannot be placed relative to itself" % (label, key)
            )
    if before is not None and before == after:
        raise RuleError("%s: keys 'before'/'after': both name %r" % (label, before))


def _as_found(rules, idx, group):
    """Unnamed rules found by their match stay as written (the same matches,
    perhaps in another order: ansible.builtin.iptables orders them its way)."""
    existing = {}
    for i in idx:
        existing.setdefault(rules[i].shape, rules[i])
    return [existing.get(r.shape, r) for r in group]


def place(
    rules,
    group,
    name,
    position="append",
    before=None,
    after=None,
    rename_from=None,
    label="",
    hold=False,
):
    """Put `group` into chain list `rules`.

    `position` append/prepend only says where a missing rule goes; a number,
    `before` and `after` are constraints that also move an existing rule that
    breaks them. A named rule that exists is replaced in place (its options may
    have changed); when `group` is empty (the rule does not apply to this
    family) the rule's copies are removed. `hold` makes a number say only where
    a missing rule goes (ansible.builtin.iptables' rule_num)."""
    _check_constraints(name, position, before, after, label)
    idx, found = _identity(rules, group, name, rename_from)
    members = set(idx)
    others = [r for i, r in enumerate(rules) if i not in members]
    notes = []
    if not group:
        return Placement(others if name is not None else list(rules), False, found, notes)
    lo = _anchor(others, after, "after", notes, label)
    hi = _anchor(others, before, "before", notes, label)
    if lo is not None and hi is not None and lo > hi:
        raise RuleError(
            "%s: keys 'before'/'after': the rule must come after %r and before %r, but %r is "
            "before %r in the chain" % (label, after, before, before, after)
        )
    moved = False
    if isinstance(position, int):
        want = min(position - 1, len(others))
    elif hi is not None:
        want = hi
    elif lo is not None:
        want = lo
    else:
        want = 0 if position == "prepend" else len(others)
    if idx:
        cur = idx[0]  # members are removed, so this is also its slot among `others`
        ok = True
        if isinstance(position, int) and not hold:
            ok = cur == want
        if hi is not None:
            ok = ok and cur <= hi
        if lo is not None:
            ok = ok and cur >= lo
        if ok:
            want = cur
        else:
            moved = True
    if name is None and idx:
        group = _as_found(rules, idx, group)
    return Placement(others[:want] + list(group) + others[want:], moved, found, notes)


def remove(rules, group, name):
    """state=absent: without the rules named `name` (by name), or equal to the
    rules of `group` (by match)."""
    if name is not None:
        gone = set(named(rules, name))
    else:
        wanted = {r.shape for r in group}
        gone = {i for i, r in enumerate(rules) if r.shape in wanted}
    return [r for i, r in enumerate(rules) if i not in gone]
