# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ipsets of the managed host and their address family, from one
``ipset list -t`` (headers only, no members), so rules that match a set are
checked before the host is touched: the set must exist and hold addresses of the
rule's family. `parse` is pure; `read` runs the one command."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import ANY_FAMILY

_FAMILY = {"inet": "ipv4", "inet6": "ipv6"}


def parse(text):
    """{set name: 'ipv4' | 'ipv6' | ANY_FAMILY} from the output of ``ipset list -t``."""
    sets = {}
    name = None
    for line in text.split("\n"):
        key, _sep, value = line.partition(":")
        value = value.strip()
        if key == "Name":
            name = value
            sets[name] = ANY_FAMILY
        elif key == "Header" and name is not None:
            words = value.split()
            for i, word in enumerate(words[:-1]):
                if word == "family":
                    sets[name] = _FAMILY.get(words[i + 1], ANY_FAMILY)
    return sets


def read(module):
    """The host's sets, or None when the ipset tool is not installed (the
    kernel then judges the rules alone)."""
    path = module.get_bin_path("ipset")
    if path is None:
        return None
    rc, out, err = module.run_command([path, "list", "-t"])
    if rc != 0:
        module.fail_json(msg="ipset list -t failed (rc %d): %s" % (rc, (err or out).strip()))
    return parse(out)
