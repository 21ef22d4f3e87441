"""Service, user and group names resolved on the managed host as iptables
resolves them (_host/names.py)."""

from __future__ import annotations

import random

import pytest

from ansible_collections.hostfw.netfilter.plugins.module_utils._host import names
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

# ---------------------------------------------------------------- names on the host


def resolved(**kw):
    return names.resolve(dict(table="filter", chain="INPUT", **kw))


def test_service_names_become_port_numbers_with_the_rules_protocol():
    assert resolved(protocol="tcp", destination_port="https")["destination_port"] == "443"
    assert resolved(protocol="tcp", source_port="!http:https")["source_port"] == "!80:443"
    assert resolved(protocol="udp", destination_ports=["domain", 123])["destination_ports"] == [
        "53",
        123,
    ]
    assert resolved(protocol="tcp", destination_port="1000-2000")["destination_port"] == "1000-2000"


def test_owner_names_become_ids():
    got = resolved(uid_owner="root", gid_owner="!root")
    assert (got["uid_owner"], got["gid_owner"]) == ("0", "!0")


@pytest.mark.parametrize(
    "kw,key",
    [
        (dict(protocol="tcp", destination_port="no-such-service-x"), "destination_port"),
        (dict(destination_port="https"), "destination_port"),
        (dict(uid_owner="no-such-user-x"), "uid_owner"),
        (dict(gid_owner="no-such-group-x"), "gid_owner"),
    ],
)
def test_unknown_names_fail_naming_the_key(kw, key):
    with pytest.raises(RuleError) as e:
        resolved(**kw)
    assert "key '%s'" % key in str(e.value) and "chain INPUT" in str(e.value)


def test_resolution_leaves_other_keys_alone():
    kw = dict(protocol="tcp", destination_port=22, source="192.0.2.1", comment="https")
    assert resolved(**kw) == dict(table="filter", chain="INPUT", **kw)


def test_random_other_keys_pass_through_unchanged():
    rng = random.Random(7)
    for _round in range(50):
        kw = {k: rng.choice(["x", 1, None, "!y"]) for k in ("comment", "jump", "source")}
        assert resolved(**kw) == dict(table="filter", chain="INPUT", **kw)


def test_service_names_in_a_comma_separated_port_list():
    got = resolved(protocol="tcp", destination_ports="http,https, 8080")["destination_ports"]
    assert got == ["80", "443", "8080"]
