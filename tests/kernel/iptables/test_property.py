"""Property tests (hypothesis) over generated rules of the vocabulary
(tests/fixtures/rule_strategies.py), the kernel's answer: the rendered rules
restored into a namespace are saved back with exactly the model's tokens
(nf_tables and legacy, IPv4 and IPv6). The pure properties:
tests/unit/iptables/test_property.py."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.tests.fixtures.rule_strategies import (
    USER_CHAIN,
    compiled,
    kernel_limit_ok,
    rules,
)
from ansible_collections.hostfw.netfilter.tests.kernel._kernel import (
    FAMILIES,
    VARIANTS,
    namespace,
    needs_kernel,
)


@pytest.fixture(scope="module")
def ns():
    with namespace() as n:
        yield n


def restore_batch(ns, variant, family, batch):
    """Replace the filter table with one chain per generated rule; return the saved
    tokens per chain."""
    decl = [
        ":INPUT ACCEPT [0:0]",
        ":FORWARD ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":%s - [0:0]" % USER_CHAIN,
    ]
    body = []
    want = {}
    for i, (d, chain) in enumerate(batch):
        toks = [r.tokens for f, r in compiled(d, chain) if f == family]
        if not toks:
            continue
        name = "C%d" % i
        want[name] = toks
        decl.append(":%s - [0:0]" % name)
        body += ["-A %s %s" % (name, TOK.render_tokens(t)) for t in toks]
    text = "\n".join(["*filter", *decl, *body, "COMMIT", ""])
    proc = ns.restore(variant, family, text, noflush=False, check=False)
    assert proc.returncode == 0, "kernel refused the model's rules:\n%s\n%s" % (proc.stderr, text)
    saved = SAVE.parse_save(ns.save(variant, family, "filter"))["filter"]
    got = {name: [r.tokens for r in saved.chains[name].rules] for name in want}
    return want, got


@needs_kernel
@pytest.mark.parametrize("variant", VARIANTS)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# found by this test: nf_tables prints `! --sport 0:1` back as `--sport 2:65535`
@example(batch=[({"protocol": "tcp", "source_port": "!0:1", "jump": "ACCEPT"}, "INPUT")])
@given(
    batch=st.lists(
        rules(with_sets=False).filter(lambda r: kernel_limit_ok(r[0])), min_size=1, max_size=8
    )
)
def test_kernel_prints_generated_rules_back(ns, variant, batch):
    for family in FAMILIES:
        want, got = restore_batch(ns, variant, family, batch)
        for name in want:
            i = int(name[1:])
            assert got[name] == want[name], "rule %r in chain %s (%s)" % (
                batch[i][0],
                batch[i][1],
                family,
            )
