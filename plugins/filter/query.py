# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hostfw.netfilter.query filter: JMESPath over gathered or rendered rules,
on the controller. Documentation: query.yml next to this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

try:
    import jmespath

    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False


def _plain(value):
    """Ansible hands templated data in its own container types; JMESPath wants
    plain dicts and lists (and compares str, int, bool exactly)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def query(data, expr):
    if not HAS_JMESPATH:
        raise AnsibleFilterError(
            "hostfw.netfilter.query needs the jmespath library on the controller: "
            "pip install jmespath (in the Python that runs ansible)"
        )
    if not isinstance(expr, str) or not expr.strip():
        raise AnsibleFilterError(
            "hostfw.netfilter.query: the expression must be a non-empty string"
        )
    try:
        compiled = jmespath.compile(expr)
    except jmespath.exceptions.ParseError as e:
        raise AnsibleFilterError(
            "hostfw.netfilter.query: invalid JMESPath expression %r: %s" % (expr, e)
        ) from e
    try:
        return compiled.search(_plain(data))
    except jmespath.exceptions.JMESPathError as e:
        raise AnsibleFilterError(
            "hostfw.netfilter.query: expression %r failed on the data: %s" % (expr, e)
        ) from e


class FilterModule:
    def filters(self):
        return {"query": query}
