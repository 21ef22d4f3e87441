# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The packet evaluator: what the filter table does with one packet, and which
rule decides. Pure.

It walks the hook's built-in chain as the kernel does: rules in order, -j into a
user chain (back at RETURN or at its end), -g (a RETURN there goes back to the
chain that called the one doing the goto), non-terminating targets (LOG, MARK...)
going on to the next rule, ACCEPT, DROP, REJECT, and the built-in chain's policy.
Each rule key is decided by its packet test in the key table (True, False, or
None for "cannot tell from the packet": rate limits, sets without members, raw
rules). An undecidable rule is followed both ways, so the answer lists every
possible outcome; it is "definite" only when there is exactly one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._eval.index import (
    INDEX_FROM,
    ChainIndex,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import keys as K
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.gather import (
    readable_part,
    structured,
)

ACCEPT, DROP, REJECT = "accept", "drop", "reject"
VERDICTS = {"ACCEPT": ACCEPT, "DROP": DROP, "REJECT": REJECT}
# targets after which the packet goes on to the next rule
NON_TERMINATING = frozenset(
    "LOG NFLOG MARK CONNMARK CT NOTRACK TCPMSS TRACE CLASSIFY AUDIT CHECKSUM DSCP TOS "
    "TTL HL SET SECMARK CONNSECMARK ULOG".split()
)
MAX_DEPTH = 64  # deeper than any chain nesting the kernel allows


class _Rule:
    """One rule, compiled once: its key tests, target and text."""

    __slots__ = (
        "position",
        "text",
        "name",
        "tests",
        "data",
        "raw",
        "target",
        "goto",
        "reject_with",
    )

    def __init__(self, chain, position, rule, family):
        self.position = position
        self.text = "-A %s %s" % (chain, rule.text())
        self.name = rule.name
        self.target = rule.target
        self.goto = rule.goto
        d = self.data = structured(rule.tokens, family)
        self.raw = d is None
        self.tests = []
        self.reject_with = None
        if d is None:  # outside the vocabulary: what can be read still rules packets out
            d = self.data = readable_part(rule.tokens, family)
        if self.target == "REJECT":
            self.reject_with = d.get("reject_with", V.REJECT_DEFAULT[family])
        for key, value in d.items():
            row = K.BY_NAME.get(key)
            if row is not None and row.matches:
                self.tests.append((key, row.test, value))

    def match(self, pkt):
        """(True | False | None, the keys that could not be decided)."""
        unknown = ["raw"] if self.raw else []
        for key, test, value in self.tests:
            hit = test(value, pkt, self.data) if test is not None else None
            if hit is False:
                return False, ()
            if hit is None:
                unknown.append(key)
        return (None, unknown) if unknown else (True, ())

    def where(self, chain):
        return {"chain": chain, "position": self.position, "rule": self.text, "target": self.target}


class _Chain:
    """The compiled rules of one chain; long chains get an index (index.py)."""

    __slots__ = ("name", "policy", "rules", "index")

    def __init__(self, chain, family):
        self.name = chain.name
        self.policy = chain.policy
        self.rules = [_Rule(chain.name, i, r, family) for i, r in enumerate(chain.rules, 1)]
        self.index = None
        if len(self.rules) >= INDEX_FROM:
            self.index = ChainIndex([r.tests for r in self.rules])

    def candidates(self, pkt):
        """Indexes of the rules that can match `pkt`, in order."""
        if self.index is None:
            return range(len(self.rules))
        return self.index.candidates(pkt)


class _Walk:
    """One line of evaluation: the rules that matched on the way."""

    __slots__ = ("path",)

    def __init__(self, path=()):
        self.path = list(path)

    def fork(self):
        return _Walk(self.path)


def _outcome(kind, walk, verdict=None, reject_with=None, decided=None):
    return {
        "kind": kind,  # "final", or "return" (fell off the chain's end, or RETURN)
        "verdict": verdict,
        "reject_with": reject_with,
        "decided_by": decided,
        "path": walk.path,
    }


class Evaluator:
    """The filter table of one family, compiled once for many packets."""

    def __init__(self, tables, family):
        self.family = family
        self.table = tables.get("filter") if tables else None
        self._chains = {}
        self._unsure = None  # the rules one explain() could not decide, in order

    def chain(self, name):
        if name not in self._chains:
            ch = self.table.chains.get(name) if self.table is not None else None
            self._chains[name] = _Chain(ch, self.family) if ch is not None else None
        return self._chains[name]

    def explain(self, pkt):
        """The answer for one packet (see the module's RETURN for its keys)."""
        hook = getattr(pkt, "hook", None) or "INPUT"
        chain = self.chain(hook)
        self._unsure = ([], set())
        if chain is None:  # no filter table (or no such chain): nothing filters
            outcomes = [_policy_outcome(_Walk(), hook, "ACCEPT")]
        else:
            outcomes = []
            for o in self._run(chain, pkt, _Walk(), 0):
                if o["kind"] == "return":
                    o = _policy_outcome(_Walk(o["path"]), hook, chain.policy)
                outcomes.append(o)
        return _answer(outcomes, self._unsure[0])

    def _note(self, where, keys):
        """A rule that could not be decided (once per explain)."""
        entries, seen = self._unsure
        k = (where["chain"], where["position"])
        if k not in seen:
            seen.add(k)
            entries.append(dict(where, keys=list(keys)))

    def _run(self, chain, pkt, walk, depth):
        """Every outcome of traversing `chain` from its first rule on `walk`."""
        out = []
        for i in chain.candidates(pkt):
            r = chain.rules[i]
            hit, unknown = r.match(pkt)
            if hit is False:
                continue
            here = r.where(chain.name)
            if hit is None:  # follow it as matched, then go on as not matched
                self._note(here, unknown)
                taken = walk.fork()
                taken.path.append(here)
                self._target(chain, r, pkt, taken, depth, out)
                continue
            walk.path.append(here)
            if not self._target(chain, r, pkt, walk, depth, out):
                return out
        out.append(_outcome("return", walk))
        return out

    def _target(self, chain, r, pkt, walk, depth, out):
        """Follow the target of a rule that matched: outcomes that end here go
        to `out`. -> whether the line goes on with the next rule (`walk` then
        holds its path)."""
        t = r.target
        if t in VERDICTS:
            out.append(_outcome("final", walk, VERDICTS[t], r.reject_with, _decided(chain, r)))
            return False
        if t == "RETURN":
            out.append(_outcome("return", walk))
            return False
        if t is None or t in NON_TERMINATING:
            return True
        sub = self.chain(t) if depth < MAX_DEPTH else None
        if sub is None:  # a target the table does not hold (NFQUEUE...): anything may happen
            self._note(r.where(chain.name), ["jump"])
            for v in (ACCEPT, DROP):
                out.append(_outcome("final", walk.fork(), v, None, _decided(chain, r)))
            return True
        returned = None
        for o in self._run(sub, pkt, walk.fork(), depth + 1):
            if o["kind"] == "final" or r.goto:
                out.append(o)  # a goto's chain returns to the caller of this one
            elif returned is None:
                returned = o
                walk.path[:] = o["path"]
        return returned is not None


def _decided(chain, r):
    return {
        "table": "filter",
        "chain": chain.name,
        "position": r.position,
        "rule": r.text,
        "name": r.name,
        "policy": None,
    }


def _policy_outcome(walk, hook, policy):
    decided = {
        "table": "filter",
        "chain": hook,
        "position": None,
        "rule": None,
        "name": None,
        "policy": policy or "ACCEPT",
    }
    verdict = DROP if policy == "DROP" else ACCEPT
    return _outcome("final", walk, verdict, None, decided)


def _answer(outcomes, uncertain):
    seen, distinct = set(), []
    for o in outcomes:
        d = o["decided_by"]
        key = (o["verdict"], o["reject_with"], d["chain"], d["position"])
        if key not in seen:
            seen.add(key)
            distinct.append(o)
    first = distinct[0]
    return {
        "verdict": first["verdict"],
        "reject_with": first["reject_with"],
        "certainty": "definite" if len(distinct) == 1 else "may",
        "verdicts": sorted({o["verdict"] for o in distinct}),
        "decided_by": first["decided_by"],
        "path": first["path"],
        "uncertain": uncertain,
        "outcomes": [
            {
                "verdict": o["verdict"],
                "reject_with": o["reject_with"],
                "decided_by": o["decided_by"],
            }
            for o in distinct
        ],
    }


def explain(tables, pkt, family=None):
    """The answer for one packet against `tables` ({name: Table} of one family)."""
    return Evaluator(tables, family or pkt.family).explain(pkt)
