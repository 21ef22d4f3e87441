"""The packet evaluator against the kernel (issue #12), the quick run: random rulesets
of the vocabulary are loaded into network namespaces, probes aimed at their rules are
sent for real (INPUT, OUTPUT, FORWARD; NEW, ESTABLISHED, RELATED, INVALID), and the rule the kernel's
counters name must be the one ``explain`` names. Every definite answer must agree in
verdict and deciding rule (or policy); for a "may" answer the kernel's verdict must be
among the possible ones. The generator, sender and judge: tests/fixtures/explain_proof.py;
the full run (thousands of pairs, docs/explain.md): ``make explain-proof``.

The seed is fixed (HFW_PROOF_SEED overrides it) and printed with any failure."""

from __future__ import annotations

import os
import random

import pytest

from ansible_collections.hostfw.netfilter.tests.fixtures import explain_proof as EP
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (
    FAMILIES,
    VARIANTS,
    needs_kernel,
)

SEED = int(os.environ.get("HFW_PROOF_SEED", "20261208"))
RULESETS = 7  # per variant and family
PER_RULESET = 10  # 4 x 7 x 10 = 280 pairs


@pytest.fixture(scope="module")
def api():
    return EP.load_api()


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
def test_explain_agrees_with_the_kernel(variant, api):
    lab = EP.Lab(variant)
    clock = [0.0, 0]
    used: set = set()
    results = []
    try:
        for i, family in enumerate(FAMILIES):
            rng = random.Random("%s-%s-%d" % (variant, family, SEED + i))
            results += EP.prove(lab, rng, family, RULESETS, PER_RULESET, used, api, clock)
    finally:
        lab.close()
    where = "seed %d, packet_from: %s" % (SEED, api[2])
    unseen = [r for r in results if r.outcome == "unseen"]
    assert not unseen, "the kernel's counters did not show the probe (%s):\n%s" % (
        where,
        EP.describe(unseen[0]),
    )
    bad = [r for r in results if r.outcome == "disagree"]
    assert not bad, "%d of %d disagree (%s); the first:\n%s" % (
        len(bad),
        len(results),
        where,
        EP.describe(bad[0]),
    )
    # the run must have exercised what it claims to: rules and policies deciding,
    # every verdict, jumps and gotos, ESTABLISHED and INVALID packets, "may" answers
    cov = EP.coverage(results)
    for key in ("by rule", "by policy", "verdict accept", "verdict drop", "verdict reject",
                "path has jump", "path has goto", "hook INPUT ESTABLISHED", "hook FORWARD ESTABLISHED",
                "hook INPUT INVALID", "certainty may"):  # fmt: skip
        assert cov.get(key), "the run never had %r (%s): %s" % (key, where, cov)
