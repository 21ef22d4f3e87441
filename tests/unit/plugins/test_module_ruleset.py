"""The `config: []` contract of the ruleset module (plugins/modules/ruleset.py
_desired): no module object, no host."""

from __future__ import annotations

import pytest

from ansible_collections.hostfw.netfilter.plugins.modules import ruleset as RULESET


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, **params):
        self.params = {"src": None, "config": None, "ignore": [], **params}

    def fail_json(self, **kw):
        raise Failed(kw["msg"])


@pytest.mark.parametrize("state", ["merged", "replaced", "overridden"])
def test_ruleset_refuses_an_empty_config(state):
    with pytest.raises(Failed, match="config: state %s needs at least one table entry" % state):
        RULESET._desired(FakeModule(state=state, config=[]), None, ("ipv4",))
    with pytest.raises(Failed, match=r"from src /tmp/c\.json"):
        RULESET._desired(FakeModule(state=state, src="/tmp/c.json"), b"[]", ("ipv4",))


def test_ruleset_deleted_and_rendered_take_an_empty_config():
    for state in ("deleted", "rendered", "gathered"):
        assert RULESET._desired(FakeModule(state=state, config=[]), None, ("ipv4",)) == {}
