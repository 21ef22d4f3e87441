"""The kernel is the judge: every vocabulary case (tests/fixtures/vocab_cases.py; the
model's answer is tests/unit/iptables/test_vocabulary.py), rendered by the model and
restored into a network namespace, is saved back by iptables-save with exactly the
model's tokens (nf_tables and legacy, IPv4 and IPv6). Cases that carry a `native`
spelling are restored as typed by a person too and must come back the same.

All cases of one variant and family go in one restore, one user chain per case
(C<n> for the model's rule, N<n> for the native spelling), so a failure names its
case; if the batch is refused, the cases are restored one by one to find the
culprit."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.tests.fixtures.vocab_cases import CASES
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (
    FAMILIES,
    HAVE_IPSET,
    VARIANTS,
    NetnsError,
    namespace,
    needs_kernel,
)

pytestmark = needs_kernel

KERNEL_CASES = [c for c in CASES if HAVE_IPSET or not c.sets]


def model_tokens(case, family):
    got = RULE.compile_rule(case.rule, case.families, "filter", case.chain, 1)
    return [r.tokens for fam, r in got if fam == family]


def _chunk(n, case, family):
    """restore lines for case number n: (declarations, rules)."""
    decl, rules = [], []
    model = model_tokens(case, family)
    native = case.native.get(family)
    if model:
        decl.append(":C%d - [0:0]" % n)
        rules += ["-A C%d %s" % (n, TOK.render_tokens(t)) for t in model]
    if native:
        decl.append(":N%d - [0:0]" % n)
        rules.append("-A N%d %s" % (n, native))
    return decl, rules


def _text(chunks, extra_chains):
    decl = [":%s - [0:0]" % c for c in extra_chains]
    rules = []
    for d, r in chunks:
        decl += d
        rules += r
    return "\n".join(["*filter", *decl, *rules, "COMMIT", ""])


@pytest.fixture(scope="module")
def kernel():
    """One namespace; per (variant, family): {case id: saved chains or error text}."""
    with namespace() as ns:
        if HAVE_IPSET:
            for case in KERNEL_CASES:
                for name, fam in case.sets.items():
                    ns.run(
                        [
                            "ipset",
                            "-exist",
                            "create",
                            name,
                            "hash:net",
                            "family",
                            "inet6" if fam == "ipv6" else "inet",
                        ]
                    )
        extra = sorted({c for case in KERNEL_CASES for c in case.chains})
        results = {}
        for variant in VARIANTS:
            for family in FAMILIES:
                chunks = [_chunk(n, c, family) for n, c in enumerate(KERNEL_CASES)]
                errors = {}
                try:
                    ns.restore(variant, family, _text(chunks, extra))
                except NetnsError:
                    # find the refused case(s): restore one case at a time
                    for case, chunk in zip(KERNEL_CASES, chunks, strict=True):
                        if not chunk[1]:
                            continue
                        try:
                            ns.restore(variant, family, _text([chunk], extra))
                        except NetnsError as e:
                            errors[case.id] = str(e)
                saved = SAVE.parse_save(ns.save(variant, family, "filter"))["filter"]
                per_case = {}
                for n, case in enumerate(KERNEL_CASES):
                    if case.id in errors:
                        per_case[case.id] = errors[case.id]
                        continue
                    per_case[case.id] = {
                        kind: [r.tokens for r in saved.chains[name].rules]
                        if name in saved.chains
                        else None
                        for kind, name in (("model", "C%d" % n), ("native", "N%d" % n))
                    }
                results[(variant, family)] = per_case
        yield results


PARAMS = [
    pytest.param(v, f, c, id="%s-%s-%s" % (v, f, c.id))
    for v in VARIANTS
    for f in FAMILIES
    for c in KERNEL_CASES
    if model_tokens(c, f) or c.native.get(f)
]


@pytest.mark.parametrize("variant, family, case", PARAMS)
def test_kernel_prints_the_model_tokens(kernel, variant, family, case):
    got = kernel[(variant, family)][case.id]
    assert not isinstance(got, str), "the kernel refused the model's rule:\n" + got
    model = model_tokens(case, family)
    if model:
        assert got["model"] == model
    if case.native.get(family):
        # the rule as a person types it comes back as the model's canonical form
        assert got["native"] == model


def test_every_case_reaches_the_kernel():
    """No vocabulary case is silently left out of the kernel check."""
    checked = {c.id for _v, _f, c in (p.values for p in PARAMS)}
    expected = {c.id for c in KERNEL_CASES if any(c.expected.values())}
    assert expected <= checked


@pytest.mark.parametrize(
    "spec, accepted",
    [
        ("--limit 1/day", False),
        ("--limit 10/day --limit-burst 100", False),
        ("--limit 2/day", True),
        ("--limit 1/hour --limit-burst 100", True),
    ],
)
def test_legacy_kernel_limit_overflow(spec, accepted):
    """The fact behind tests/unit/iptables/test_vocabulary.py::
    test_limit_the_legacy_kernel_refuses_is_bad_input."""
    with namespace() as ns:
        text = "*filter\n:L - [0:0]\n-A L -m limit %s -j ACCEPT\nCOMMIT\n" % spec
        proc = ns.restore("legacy", "ipv4", text, check=False)
        assert (proc.returncode == 0) == accepted, proc.stderr
