# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hostfw.netfilter.verdict filter: what a ruleset does with a packet, on
the controller, by the same evaluator as hostfw.netfilter.explain.
Documentation: verdict.yml next to this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.hostfw.netfilter.plugins.module_utils._eval.evaluate import Evaluator
from ansible_collections.hostfw.netfilter.plugins.module_utils._eval.packets import packet_from
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import parse_save
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.config import compile_config
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.ignore import Ignore
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.states import plan
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

FAMILIES = ("ipv4", "ipv6")


def _fail(msg):
    raise AnsibleFilterError("hostfw.netfilter.verdict: %s" % msg)


def _plain(value):
    """Ansible's templated containers and strings as plain Python values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    return value


def _tables(data, family):
    """{table: Table} of one family from a config list, a save text, or
    {family: save text} (ruleset's `rendered`)."""
    if isinstance(data, str):
        return parse_save(data)
    if isinstance(data, dict):
        return parse_save(data.get(family) or "")
    if isinstance(data, list):
        desired = compile_config(data, (family,))
        tables = {}
        for tp in plan({}, desired, "overridden", Ignore(None), (family,)):
            tables[tp.after.name] = tp.after
        return tables
    _fail(
        "the input must be a config list, an iptables-save text, or a mapping of family to "
        "save text (the rendered result of hostfw.netfilter.ruleset), got %s" % type(data).__name__
    )


def as_string(answer):
    """'accept', 'drop' or 'reject' when that is the only possible verdict
    (whichever rule decides); else 'may:' and the possible verdicts, sorted."""
    if len(answer["verdicts"]) == 1:
        return answer["verdicts"][0]
    return "may:" + ",".join(answer["verdicts"])


def verdict(data, packet, detail=False, family=None):
    if not isinstance(packet, Mapping):
        _fail("the packet must be a mapping, got %s" % type(packet).__name__)
    if family is not None and family not in FAMILIES:
        _fail("family must be ipv4 or ipv6, got %r" % (family,))
    try:
        pkt = packet_from(
            _plain(packet), index=1, family=family or "ipv4", ignore=("name", "expect")
        )
        if family is not None and pkt.family != family:
            _fail(
                "the packet is an %s packet, not of the family argument %s" % (pkt.family, family)
            )
        tables = _tables(_plain(data), pkt.family)
        answer = Evaluator(tables, pkt.family).explain(pkt)
    except (RuleError, ValueError) as e:
        _fail(str(e))
    if detail:
        return dict(answer, family=pkt.family, result=as_string(answer))
    return as_string(answer)


class FilterModule:
    def filters(self):
        return {"verdict": verdict}
