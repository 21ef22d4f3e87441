"""Bad input of the value checks of _rules/values.py that generated tests found (issue
#10, section 1): each check refuses it with a RuleError that names the key, and good
input still gives the canonical value. The other layers' bad input:
tests/unit/{iptables,plan}/test_bad_input.py; the kernel's confirmation:
tests/kernel/iptables/test_bad_input.py."""

from __future__ import annotations

import math

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._rules import values as RV
from ansible_collections.hostfw.netfilter.tests.fixtures.bad_input import (
    CTX,
    UNICODE_DIGITS,
    refused,
)

# ------------------------------------------- 2. ASCII digits, floats


@pytest.mark.parametrize("value", UNICODE_DIGITS + ["1_000", "+22", "22.0", 22.0, True, None, []])
def test_port_refuses_what_is_not_ascii_digits(value):
    refused(lambda: RV.port(CTX, "destination_port", value), "destination_port")


@pytest.mark.parametrize("value", [x + ":30" for x in UNICODE_DIGITS] + ["20:\xb2"])
def test_port_range_refuses_unicode_digits(value):
    refused(lambda: RV.port(CTX, "destination_port", value), "destination_port")


@pytest.mark.parametrize(
    "value, want",
    [(22, (False, "22")), ("22", (False, "22")), (" 22 ", (False, "22")), ("!22", (True, "22")),
     ("20:30", (False, "20:30")), ("20-30", (False, "20:30")), (":1023", (False, "0:1023"))],
)  # fmt: skip
def test_port_good(value, want):
    assert RV.port(CTX, "destination_port", value) == want


@pytest.mark.parametrize(
    "value",
    UNICODE_DIGITS
    + ["1_000", "5.0", "", " ", "5 5", "0x10", 5.7, -0.5, math.inf, -math.inf, math.nan, True,
       False, None, [5], {"a": 5}, 1e300],
)  # fmt: skip
def test_whole_number_refuses(value):
    refused(lambda: RV.whole_number(CTX, "limit_burst", value, 1, 10000), "limit_burst")


@pytest.mark.parametrize(
    "value, want", [(5, 5), ("5", 5), (" 5 ", 5), (5.0, 5), ("010", 10), (10000, 10000)]
)
def test_whole_number_good(value, want):
    got = RV.whole_number(CTX, "limit_burst", value, 1, 10000)
    assert got == want and isinstance(got, int) and not isinstance(got, bool)


# -------------------------------------------------- 5. address masks


@pytest.mark.parametrize(
    "value, word",
    [
        ("10.1.2.3/0.0.0.255", "contiguous"),  # a hostmask: iptables stores 0.0.0.3/0.0.0.255
        ("10.1.2.3/0.0.0.1", "contiguous"),
        ("10.1.2.3/255.0.255.0", "contiguous"),
        ("10.1.2.3/255.255.0.255", "contiguous"),
        ("!10.1.2.3/0.0.0.255", "contiguous"),
        ("10.1.2.3/024", "leading zero"),  # iptables: /20
        ("10.1.2.3/08", "leading zero"),  # iptables: invalid mask
        ("10.1.2.3/00", "leading zero"),
        ("2001:db8::1/064", "leading zero"),  # ip6tables: /52
        ("fe80::1%eth0", "scope"),  # ip6tables drops the scope
        ("fe80::1%eth0/64", "scope"),
        ("\u0661\u0660.1.2.3", "not an IP"),
        ("10.1.2.\u0663", "not an IP"),
        ("2001:db8::1/ffff:ffff::", "not an IP"),
    ],
)
def test_address_refuses(value, word):
    RV._ADDRESS_CACHE.clear()
    refused(lambda: RV.address(CTX, "source", value), "source", word)


@pytest.mark.parametrize(
    "value, want",
    [
        ("10.1.2.3/255.255.255.0", (False, "ipv4", "10.1.2.0/24")),
        ("10.1.2.3/255.255.255.255", (False, "ipv4", "10.1.2.3/32")),
        ("10.1.2.3/255.255.255.254", (False, "ipv4", "10.1.2.2/31")),
        ("10.1.2.3/128.0.0.0", (False, "ipv4", "0.0.0.0/1")),
        ("10.1.2.3/0.0.0.0", (False, "ipv4", None)),
        ("10.1.2.3/0", (False, "ipv4", None)),
        ("10.1.2.3/8", (False, "ipv4", "10.0.0.0/8")),
        ("10.1.2.3", (False, "ipv4", "10.1.2.3/32")),
        ("! 10.1.2.3/24", (True, "ipv4", "10.1.2.0/24")),
        ("2001:db8::1/64", (False, "ipv6", "2001:db8::/64")),
        ("10.1.2.3/24\n", (False, "ipv4", "10.1.2.0/24")),  # surrounding blanks are stripped
    ],
)
def test_address_good(value, want):
    RV._ADDRESS_CACHE.clear()
    assert RV.address(CTX, "source", value) == want


# ------------------------------------ 6./7. text: controls and bytes


@pytest.mark.parametrize(
    "value", ["a\x00b", "a\nb", "a\tb", "a\x7fb", "a\x80b", "a\x85b", "a\x9fb", "a\udcffb", ["x"]]
)
def test_clean_text_refuses(value):
    refused(lambda: RV.clean_text(CTX, "comment", value), "comment")


@pytest.mark.parametrize(
    "value", ["a\u2028b", "a\u2029b", "a\xa0b", "\u3000", "\xe9", "a\u200bb", 42]
)
def test_clean_text_stores_literally(value):
    assert RV.clean_text(CTX, "comment", value) == str(value)


def test_utf8_size():
    assert RV.utf8_size("A\xe9\u20ac\U0001f600") == 1 + 2 + 3 + 4
