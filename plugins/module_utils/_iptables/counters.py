# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule counters (``iptables-save -c``) in the config format. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.gather import (
    tables_to_config,
)


def with_counters(states, tables=None, chains=None):
    """{family: {table: Table}} (read with counters) -> one config entry per
    family and table, each rule with ``counters: {packets, bytes}``."""
    config = []
    for fam, tabs in states.items():
        for entry in tables_to_config({fam: tabs}, tables, chains):
            entry["ip_version"] = fam
            table = tabs[entry["table"]]
            for centry in entry["chains"]:
                for d, r in zip(centry["rules"], table.chains[centry["name"]].rules):
                    packets, octets = r.counters or (0, 0)
                    d["counters"] = {"packets": packets, "bytes": octets}
            config.append(entry)
    return config
