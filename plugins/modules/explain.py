#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: explain
short_description: What the firewall does with a packet, and which rule decides
version_added: 0.1.0
description:
  - Evaluates each packet of O(packets) against the C(filter) table of the host
    (one C(iptables-save) per family) or of O(config), and returns the verdict
    (C(accept), C(drop) or C(reject)), whether it is certain, the rule or policy
    that decided it and the rules the packet matched on the way.
  - Rules in order; C(-j) to a user chain returns at C(RETURN) or its end, C(-g)
    returns to the caller of the chain that jumped; non-terminating targets
    (C(LOG), C(MARK)...) go on. A rule whose keys the packet alone cannot
    decide (rate limits, ipsets, rules outside the rule vocabulary, keys the
    packet leaves unknown) is followed both ways, so the answer may list more
    than one possible verdict (C(certainty) C(may)).
  - With C(expect) on a packet the task fails when the verdict differs, or is
    only possible; every packet is still evaluated and every failure is named
    in the message with the packet and the deciding rule.
  - Never changes anything on the host, in check mode or not.
author:
  - hostfw.netfilter developers (@hostfw)
extends_documentation_fragment:
  - hostfw.netfilter.common
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads; it evaluates the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: Nothing changes, so there is no diff.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: linux
options:
  packets:
    description:
      - The packets to evaluate, each a mapping of what is known about it.
      - A key left out is unknown, never guessed (except C(hook) C(INPUT) and
        C(state) C(NEW), the defaults); a rule that looks at it is followed both
        ways. Give C(in_interface) for C(INPUT) packets when the rules match
        interfaces (a loopback rule does).
      - C(family) (C(ipv4) or C(ipv6); by default the family of the addresses),
        C(hook) (C(INPUT), the default, C(OUTPUT) or C(FORWARD)), C(protocol),
        C(source), C(destination), C(source_port), C(destination_port),
        C(in_interface), C(out_interface), C(state) (a conntrack state, for
        example C(NEW) or C(ESTABLISHED)), C(icmp_type), C(icmp_code),
        C(tcp_flags), C(fragment), C(uid), C(gid), C(sets) (the ipsets the packet's
        addresses are members of).
      - C(name) labels the packet in the result and in messages (default C(#N),
        its position in the list).
      - C(expect) (C(accept), C(drop) or C(reject)) makes the task fail unless
        the packet's verdict is certainly that one.
      - A packet with neither C(family) nor an address is evaluated in every
        family of O(ip_version), with one entry per family in RV(packets).
    type: list
    elements: dict
    required: true
  config:
    description:
      - A ruleset in the O(hostfw.netfilter.ruleset#module:config) format to
        evaluate instead of the host's rules. The host's rules are then not
        read (nor is C(iptables) needed); built-in chains the config does not
        list are empty with policy C(ACCEPT).
    type: list
    elements: dict
notes:
  - Only the C(filter) table is evaluated; the C(raw), C(mangle) and C(nat) tables
    are not.
seealso:
  - module: hostfw.netfilter.ruleset
  - module: hostfw.netfilter.rules_info
  - plugin: hostfw.netfilter.verdict
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Which rule lets SSH in from the admin network
  hostfw.netfilter.explain:
    packets:
      - {name: ssh from admin, protocol: tcp, destination_port: 22, source: 192.0.2.10, in_interface: eth0}
  register: why

- name: Show the deciding rule
  ansible.builtin.debug:
    msg: "{{ why.packets[0].verdict }} by {{ why.packets[0].decided_by }}"

- name: Fail unless the firewall does what we expect
  hostfw.netfilter.explain:
    packets:
      - {name: ssh from admin, protocol: tcp, destination_port: 22, source: 192.0.2.10, in_interface: eth0, expect: accept}
      - {name: telnet, protocol: tcp, destination_port: 23, source: 198.51.100.7, in_interface: eth0, expect: drop}
      - {name: replies, protocol: tcp, source_port: 443, source: 198.51.100.7, in_interface: eth0, state: ESTABLISHED, expect: accept}
    ip_version: ipv4

- name: Check a ruleset before it is applied, without reading the host
  hostfw.netfilter.explain:
    config:
      - table: filter
        chains:
          - name: INPUT
            policy: DROP
            rules:
              - {name: loopback, in_interface: lo, jump: ACCEPT}
              - {name: https, protocol: tcp, destination_port: 443, jump: ACCEPT}
    packets:
      - {name: https, protocol: tcp, destination_port: 443, in_interface: eth0, expect: accept}
      - {name: mysql, protocol: tcp, destination_port: 3306, in_interface: eth0, expect: drop}
"""

RETURN = r"""
packets:
  description:
    - One entry per packet and family, in the order of O(packets); a packet with
      neither C(family) nor an address has one entry per family.
    - Besides the keys below, each entry has the evaluator's whole answer -
      C(reject_with), C(outcomes) (every possible verdict with its deciding rule).
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: The packet's position in O(packets), from 1.
      type: int
    name:
      description: The packet's C(name), or null.
      type: str
    label:
      description: How messages name the packet, C('NAME' (#N)) or C(#N), with the family when the packet was evaluated in more than one.
      type: str
    family:
      description: The family the packet was evaluated in.
      type: str
    packet:
      description: The packet as understood, with its defaults (C(hook), C(state)...), keyed as in O(packets); unknown keys are left out.
      type: dict
    expect:
      description: The packet's C(expect), or null.
      type: str
    ok:
      description: Whether C(expect) is the only possible verdict (null without C(expect)).
      type: bool
    verdict:
      description: The verdict of the first possible outcome, C(accept), C(drop) or C(reject).
      type: str
      sample: drop
    certainty:
      description: C(definite) when exactly one outcome is possible, else C(may).
      type: str
      sample: definite
    verdicts:
      description: Every possible verdict, sorted.
      type: list
      elements: str
      sample: [drop]
    decided_by:
      description: The deciding rule (C(table), C(chain), C(position), C(name), C(rule)) or built-in chain policy (C(policy) set, C(position) null).
      type: dict
      sample: {table: filter, chain: INPUT, position: null, name: null, rule: null, policy: DROP}
    path:
      description: Every rule the packet matched on the way (of the first outcome), the deciding rule last.
      type: list
      elements: dict
    uncertain:
      description: The rules the packet alone could not decide, with the keys that could not be.
      type: list
      elements: dict
  sample:
    - index: 1
      name: ssh from admin
      label: "'ssh from admin' (#1)"
      family: ipv4
      verdict: accept
      certainty: definite
      verdicts: [accept]
      decided_by: {table: filter, chain: INPUT, position: 3, name: ssh, rule: "-A INPUT -s 192.0.2.0/24 -p tcp ...", policy: null}
failures:
  description: One message per packet that is not as its C(expect) says.
  returned: when a packet is not as expected (the task fails)
  type: list
  elements: str
  sample: ["packet 'telnet' (#2): expected drop, got accept by INPUT policy ACCEPT"]
backend:
  description: The backend used to read (not returned with O(config)).
  returned: when O(config) is not given
  type: str
  sample: restore
variant:
  description: The iptables variant of the host, C(nf_tables) or C(legacy) (not returned with O(config)).
  returned: when O(config) is not given
  type: str
  sample: nf_tables
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostfw.netfilter.plugins.module_utils import _module
from ansible_collections.hostfw.netfilter.plugins.module_utils._eval.evaluate import Evaluator
from ansible_collections.hostfw.netfilter.plugins.module_utils._eval.packets import packet_from
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.config import compile_config
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.ignore import Ignore
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.states import plan
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import families_of

EXPECTS = ("accept", "drop", "reject")
IGNORED = ("name", "expect")  # read here, not by packet_from

# Packet attributes under the names the `packets` option uses for them.
_OPTION_NAMES = {
    "src": "source",
    "dst": "destination",
    "proto": "protocol",
    "sport": "source_port",
    "dport": "destination_port",
    "in_iface": "in_interface",
    "out_iface": "out_interface",
}


class Job:
    """One packet to evaluate in one family."""

    __slots__ = ("index", "name", "label", "expect", "packet")

    def __init__(self, index, name, label, expect, packet):
        self.index = index
        self.name = name
        self.label = label
        self.expect = expect
        self.packet = packet


def _label(name, index, family=None):
    text = "'%s' (#%d)" % (name, index) if name else "#%d" % index
    return "%s (%s)" % (text, family) if family else text


def jobs_of(specs, families):
    """[Job] for the `packets` option: name and expect checked here, the rest
    by packet_from; a packet that tells no family (no family, no address, not
    ICMPv6) once per family."""
    jobs = []
    for index, spec in enumerate(specs, 1):
        name, expect = spec.get("name"), spec.get("expect")
        if name is not None and not isinstance(name, str):
            raise RuleError("packet #%d: key 'name': must be a string, got %r" % (index, name))
        if expect is not None and expect not in EXPECTS:
            raise RuleError(
                "packet %s: key 'expect': must be one of %s, got %r"
                % (_label(name, index), ", ".join(EXPECTS), expect)
            )
        pkt = packet_from(spec, index=index, family=None, ignore=IGNORED)
        if pkt.family is None:
            several = len(families) > 1
            for fam in families:
                one = packet_from(spec, index=index, family=fam, ignore=IGNORED)
                label = _label(name, index, fam if several else None)
                jobs.append(Job(index, name, label, expect, one))
            continue
        if pkt.family not in families:
            raise RuleError(
                "packet %s: key 'family': an %s packet, but the task manages %s only"
                % (_label(name, index), pkt.family, " and ".join(families))
            )
        jobs.append(Job(index, name, _label(name, index), expect, pkt))
    return jobs


def packet_dict(pkt):
    """The packet as understood: its known fields, keyed as in `packets`."""
    return {_OPTION_NAMES.get(k, k): v for k, v in pkt.as_dict().items()}


def config_tables(config, families):
    """{family: {table: Table}} of a config, as state overridden makes it of
    empty tables (the built-in chains it does not list: empty, ACCEPT)."""
    desired = compile_config(config, families)
    out = {fam: {} for fam in families}
    for tp in plan({}, desired, "overridden", Ignore(None), families):
        out[tp.family][tp.after.name] = tp.after
    return out


def describe(decided_by):
    """'INPUT policy DROP' or "rule 3 of INPUT 'deny-all' (-A INPUT -j DROP)"."""
    d = decided_by or {}
    if d.get("position") is None:
        return "%s policy %s" % (d.get("chain"), d.get("policy"))
    name = " '%s'" % d["name"] if d.get("name") else ""
    rule = " (%s)" % d["rule"] if d.get("rule") else ""
    return "rule %s of %s%s%s" % (d["position"], d.get("chain"), name, rule)


def failure(job, answer):
    """The message of a packet whose answer is not its expect, or None."""
    if job.expect is None:
        return None
    if answer["verdicts"] == [job.expect]:  # certain, whichever rule decides
        return None
    if len(answer["verdicts"]) == 1:
        got = "got %s by %s" % (answer["verdict"], describe(answer["decided_by"]))
    else:
        ways = ["%s by %s" % (o["verdict"], describe(o["decided_by"])) for o in answer["outcomes"]]
        undecided = [
            "rule %s of %s (%s)"
            % (u.get("position"), u.get("chain"), ", ".join(u.get("keys") or ()))
            for u in answer.get("uncertain") or ()
        ]
        got = "got only maybe: %s" % "; or ".join(ways)
        if undecided:
            got += " - cannot decide %s" % ", ".join(undecided)
    return "packet %s: expected %s, %s" % (job.label, job.expect, got)


def evaluate(jobs, states):
    """(entries, failure messages) of every job against {family: {table: Table}}."""
    evaluators, entries, failures = {}, [], []
    for job in jobs:
        fam = job.packet.family
        if fam not in evaluators:
            evaluators[fam] = Evaluator(states.get(fam, {}), fam)
        answer = evaluators[fam].explain(job.packet)
        msg = failure(job, answer)
        if msg:
            failures.append(msg)
        entry = dict(index=job.index, name=job.name, label=job.label, family=fam)
        entry.update(packet=packet_dict(job.packet), expect=job.expect)
        entry["ok"] = None if job.expect is None else msg is None
        entry.update(answer)
        entries.append(entry)
    return entries, failures


def main():
    argument_spec = dict(
        packets=dict(type="list", elements="dict", required=True),
        config=dict(type="list", elements="dict"),
    )
    argument_spec.update(_module.COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    families = families_of(p["ip_version"])
    info = {}
    try:
        jobs = jobs_of(p["packets"], families)
        if p["config"] is not None:
            states = config_tables(p["config"], families)
    except RuleError as e:
        module.fail_json(msg=str(e))
    if p["config"] is None:
        backend = _module.make_backend(module)
        info = dict(backend=backend.name, variant=backend.variant)
        wanted = [f for f in families if any(j.packet.family == f for j in jobs)]
        with backend.lock():
            states = _module.read_state(module, backend, wanted)
    try:
        entries, failures = evaluate(jobs, states)
    except RuleError as e:
        module.fail_json(msg=str(e), **info)
    if failures:
        n = len({e["index"] for e in entries if e["ok"] is False})
        module.fail_json(
            msg="%d of %d packets not as expected: %s"
            % (n, len(p["packets"]), "; ".join(failures)),
            packets=entries,
            failures=failures,
            changed=False,
            **info,
        )
    module.exit_json(changed=False, packets=entries, **info)


if __name__ == "__main__":
    main()
