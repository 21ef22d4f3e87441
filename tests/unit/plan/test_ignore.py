"""What `ignore` searches (_plan/ignore.py; set names of --match-set included, so
fail2ban's ipset bans survive `overridden`), and a chain's `ignored_slot`: the
ignored rules it selects are kept right in front of a named rule. Pure: plans on
parsed dumps (tests/fixtures/saves.py), no kernel. The same on a host in the kernel:
tests/kernel/plan/test_ignore.py; the roles composed with the slot:
tests/unit/roles/test_composed.py."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import rule as RULE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import save as SAVE
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import tokens as TOK
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.rule import compile_rule
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import config as CONFIG
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import ignore as IGN
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import states as STATES
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.tests.fixtures.saves import (
    BAN,
    HOST4,
    HOST6,
    IGNORE,
    OUR_CONFIG,
)
from ansible_collections.hostfw.netfilter.tests.fixtures.tables import anchors, is_subsequence

BOTH = ("ipv4", "ipv6")


FIRST_INPUT_RULE = "-A INPUT -i lo -m comment --comment hostfw:loopback -j ACCEPT"

HAS_SLOT = "slot" in CONFIG.DesiredChain.__slots__
needs_slot_config = pytest.mark.skipif(
    not HAS_SLOT,
    reason="compile_config does not know the chain key ignored_slot yet "
    "(DesiredChain.slot, compile_ignored_slot; see _plan/ignore.py)",
)


def tok_rule(text):
    """A Rule from a rule as iptables-save prints it after -A CHAIN."""
    return RULE.rule_from_tokens(tuple(TOK.tokenize(text)))


# ---------------------------------------------- what ignore searches


def test_rule_parts_are_exactly_comment_target_interfaces_and_set_names():
    r = tok_rule(
        "-s 192.0.2.0/24 -i eth0 ! -o br-1 -p tcp -m set --match-set s-one src "
        "-m set ! --match-set s-two dst,dst -m comment --comment c-text -j CHAIN-X"
    )
    assert IGN.rule_parts(r) == ["c-text", "CHAIN-X", "eth0", "br-1", "s-one", "s-two"]
    # addresses, ports, protocols and other options are not searched
    assert not IGN.Ignore([r"192\.0\.2", "^tcp$", "^src$", "dst"]).rule(r)


def test_a_comment_is_never_read_as_an_option():
    r = tok_rule("-m comment --comment --match-set -j ACCEPT")
    assert IGN.rule_parts(r) == ["--match-set", "ACCEPT"]


@pytest.mark.parametrize("fam", BOTH)
def test_ignore_matches_the_set_name_of_a_fail2ban_ipset_ban(fam):
    ban = tok_rule(BAN[fam].split(" ", 2)[2])
    assert ban.comment is None and ban.target == "REJECT"
    assert IGN.Ignore(["^f2b-"]).rule(ban)
    assert not IGN.Ignore(["^f2b-sshd$"]).rule(ban)


def with_ban(text, fam):
    """The shared dump with fail2ban's ipset ban inserted at the top of INPUT."""
    assert text.count(FIRST_INPUT_RULE) == 1
    return text.replace(FIRST_INPUT_RULE, BAN[fam] + "\n" + FIRST_INPUT_RULE)


def banned_host():
    return {
        "ipv4": SAVE.parse_save(with_ban(HOST4, "ipv4")),
        "ipv6": SAVE.parse_save(with_ban(HOST6, "ipv6")),
    }


@pytest.mark.parametrize("patterns", [IGNORE, ["^f2b-"]], ids=["shared-ignore", "f2b-only"])
def test_overridden_keeps_the_fail2ban_ban_where_it_is(patterns):
    current = banned_host()
    ignore = IGN.Ignore(patterns)
    desired = CONFIG.compile_config(OUR_CONFIG, BOTH)
    plans = STATES.plan(current, desired, "overridden", ignore, BOTH)
    for p in plans:
        ban = tuple(TOK.tokenize(BAN[p.family].split(" ", 2)[2]))
        before, after = p.before.chains["INPUT"].rules, p.after.chains["INPUT"].rules
        assert before[0].tokens == ban
        assert after[0].tokens == ban, p.family  # still first: nothing in front of it
        assert [r.tokens for r in after].count(ban) == 1
        wanted = {r.name for r in after if r.owned}
        assert (ban, None) in anchors(after, wanted, ignore)
        kept = [r.tokens for r in before if ignore.rule(r)]
        assert is_subsequence(kept, [r.tokens for r in after])
        again = STATES.plan_table(
            p.family, p.after, desired[(p.family, "filter")], "overridden", ignore
        )
        assert not again.changed


def test_without_set_names_overridden_would_delete_the_ban():
    """The bug the set names fix: an ignore that does not see the set removes it."""
    current = banned_host()
    desired = CONFIG.compile_config(OUR_CONFIG, BOTH)
    plans = STATES.plan(current, desired, "overridden", IGN.Ignore(["^f2b-nginx$"]), BOTH)
    for p in plans:
        ban = tuple(TOK.tokenize(BAN[p.family].split(" ", 2)[2]))
        assert ban not in [r.tokens for r in p.after.chains["INPUT"].rules]


# ------------------------------------------------ ignored_slot, pure


def rules4(*data):
    return [r for d in data for fam, r in compile_rule(d, ("ipv4",), "filter", "INPUT", None)]


OURS = rules4(
    {"name": "lo", "in_interface": "lo", "jump": "ACCEPT"},
    {"name": "invalid", "ctstate": ["INVALID"], "jump": "DROP"},
    {"name": "ssh", "protocol": "tcp", "destination_port": 22, "jump": "ACCEPT"},
    {"name": "log-drop", "jump": "LOG"},
)
JUMP_A = tok_rule("-m comment --comment hostfw:a-jump -j HOSTFW-A")
JUMP_B = tok_rule("-m comment --comment hostfw:b-jump -j HOSTFW-B")
F2B = tok_rule("-p tcp -m multiport --dports 22 -j f2b-sshd")
IGNORE_ALL = IGN.Ignore(["^HOSTFW-", "^f2b-"])
SLOT = IGN.IgnoredSlot(["^HOSTFW-"], "log-drop")


def names(rules):
    return [r.name or r.target for r in rules]


@pytest.mark.parametrize(
    "cur",
    [
        [JUMP_A, F2B, JUMP_B],  # a service role first, on an empty INPUT
        [F2B] + OURS[:1] + [JUMP_A] + OURS[1:] + [JUMP_B],  # after the log rule
        [F2B] + OURS[:3] + [JUMP_A, JUMP_B] + OURS[3:],  # already in the slot
        [F2B, JUMP_A] + OURS[:2] + [JUMP_B] + OURS[2:],
    ],
)
def test_slot_gathers_the_selected_rules_in_front_of_its_rule(cur):
    out = STATES._replaced_target(cur, OURS, IGNORE_ALL, SLOT)
    order = [n for n in names(cur) if n in ("a-jump", "b-jump")]
    assert names(out) == ["f2b-sshd", "lo", "invalid", "ssh", *order, "log-drop"]
    assert STATES._replaced_target(out, OURS, IGNORE_ALL, SLOT) == out


def test_slot_without_its_rule_is_the_end_of_the_chain():
    wanted = OURS[:3]
    for slot in (IGN.IgnoredSlot(["^HOSTFW-"]), SLOT):  # before None, or absent here
        out = STATES._replaced_target([JUMP_A, F2B] + wanted, wanted, IGNORE_ALL, slot)
        assert names(out) == ["f2b-sshd", "lo", "invalid", "ssh", "a-jump"]


def test_slot_selects_only_among_ignored_rules():
    hand = tok_rule("-p tcp -m tcp --dport 80 -j HOSTFW-A")  # slot matches, ignore does not
    out = STATES._replaced_target([hand] + OURS, OURS, IGN.Ignore(["^f2b-"]), SLOT)
    assert out == OURS
    # a rule the config lists is ours: placed where it is listed
    wanted = OURS[:1] + [JUMP_A] + OURS[1:]
    out = STATES._replaced_target(OURS + [JUMP_A], wanted, IGNORE_ALL, SLOT)
    assert out == wanted


def test_no_slot_keeps_the_old_placement():
    cur = [JUMP_A] + OURS
    assert STATES._replaced_target(cur, OURS, IGNORE_ALL) == cur
    assert STATES._replaced_target(cur, OURS, IGNORE_ALL, None) == cur


def test_slot_before_an_expanded_rule_is_in_front_of_its_first_kernel_rule():
    ssh = rules4(
        {
            "name": "ssh",
            "protocol": "tcp",
            "destination_port": 22,
            "source": ["192.0.2.1", "192.0.2.2"],
            "jump": "ACCEPT",
        }
    )
    out = STATES._replaced_target(
        ssh + [JUMP_A], ssh, IGNORE_ALL, IGN.IgnoredSlot("^HOSTFW-", "ssh")
    )
    assert names(out) == ["a-jump", "ssh#1", "ssh#2"]


@pytest.mark.parametrize(
    "value, message",
    [
        ("^HOSTFW-", "must be a mapping"),
        ({"before": "log-drop"}, "'match' must be"),
        ({"match": []}, "'match' must be"),
        ({"match": [1]}, "'match' must be"),
        ({"match": "(", "before": "log-drop"}, "not a valid regular expression"),
        ({"match": "x", "after": "ssh"}, "unknown key 'after'"),
        ({"match": "x", "before": "nope"}, "'before' names 'nope', which is not a rule"),
        ({"match": "x", "before": ""}, "'before' must be the name of a rule"),
    ],
)
def test_compile_ignored_slot_errors(value, message):
    with pytest.raises(RuleError, match=message) as e:
        IGN.compile_ignored_slot("table filter, chain INPUT", value, [OURS, None])
    assert str(e.value).startswith("table filter, chain INPUT: key 'ignored_slot': ")


def test_compile_ignored_slot_accepts_a_name_of_any_family():
    slot = IGN.compile_ignored_slot("w", {"match": "^H", "before": "ssh"}, [[], OURS])
    assert slot.before == "ssh" and slot.takes(JUMP_A) and not slot.takes(F2B)
    assert IGN.compile_ignored_slot("w", None, [OURS]) is None
    assert IGN.compile_ignored_slot("w", {"match": ["^H"], "before": None}, [OURS]).before is None


@needs_slot_config
def test_compile_config_carries_the_slot_and_names_errors():
    chains = [
        {
            "name": "INPUT",
            "rules": [{"name": "log-drop", "jump": "LOG"}],
            "ignored_slot": {"match": "^HOSTFW-", "before": "log-drop"},
        }
    ]
    desired = CONFIG.compile_config([{"chains": chains}], BOTH)
    for fam in BOTH:
        assert desired[(fam, "filter")]["INPUT"].slot.before == "log-drop"
    chains[0]["ignored_slot"]["before"] = "log"
    with pytest.raises(RuleError, match=r"^table filter, chain INPUT: key 'ignored_slot': "):
        CONFIG.compile_config([{"chains": chains}], BOTH)
