#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ruleset
short_description: Declarative Netfilter tables and chains for IPv4 and IPv6
version_added: 0.1.0
description:
  - Manages the rules and policies of Netfilter tables (C(filter) first of all)
    for IPv4 and IPv6 from one declaration, in the style of the netcommon
    resource modules.
  - Every change is one atomic C(iptables-restore --noflush) transaction per table
    and family, planned from a single C(iptables-save) - the smallest set of
    C(-N), C(-A), C(-I), C(-R), C(-D), C(-P) and C(-X) lines that reaches the
    desired state. A table is never flushed, and chains or rules matched by
    O(ignore) (Docker, fail2ban, Kubernetes) are never touched.
  - Rules are compared in the canonical form the kernel prints back, so a second
    run changes nothing.
  - A rule's C(name) is stored in the kernel as its
    comment, prefixed with C(hostfw:); rules without that prefix are not ours.
author:
  - hostfw.netfilter developers (@hostfw)
extends_documentation_fragment:
  - hostfw.netfilter.common
  - hostfw.netfilter.common.PROTECT
  - hostfw.netfilter.common.CHANGING
  - hostfw.netfilter.common.ROLLBACK
options:
  config:
    description:
      - The desired tables. Required for O(state=merged), O(state=replaced),
        O(state=overridden) and O(state=rendered).
      - Each entry is a mapping with C(table) (C(filter) by default; also C(nat),
        C(mangle), C(raw), C(security)), optional C(ip_version) (limits the entry
        to one family; C(gathered) uses it when the IPv4 and IPv6 chains or
        policies differ) and C(chains).
      - Each chain is a mapping with C(name) (at most 28 characters), C(policy)
        (C(ACCEPT) or C(DROP), built-in chains only), C(rules), a list in order,
        and C(ignored_slot), where the ignored rules it selects are kept (see O(ignore)).
      - Each rule is a mapping of the rule keys, documented once as the options of
        M(hostfw.netfilter.rule) (C(protocol), C(source), C(destination_port),
        C(ctstate), C(jump)...); they are the keys of M(ansible.builtin.iptables)
        where the two overlap, so an existing task moves here unchanged. A leading
        C(!) negates a value.
      - C(name) is the rule's identity, unique in its chain, stored in the
        kernel as the comment C(hostfw:NAME) (followed by C(comment) if given).
      - C(source) and C(destination) may be lists; the rule then expands to one
        kernel rule per address, named C(NAME#1), C(NAME#2)...
      - C(ip_version) (C(ipv4), C(ipv6), C(both)) defaults to O(ip_version); a rule
        whose addresses are all of one family applies to that family only.
        C(icmp_type) names map per family (C(echo-request) is type 8 and 128;
        C(fragmentation-needed) and C(packet-too-big) are the same job in both),
        and so do C(reject_with) names.
      - C(raw) holds a rule exactly as iptables-save prints it after C(-A CHAIN);
        C(gathered) uses it for rules outside the vocabulary (Docker's, kube-proxy's).
      - Rules are validated by the module rather than by nested argument specs,
        so 10,000 rules cost milliseconds. A bad key or value fails the task with
        a message naming the table, chain, rule and key, before the host is read.
      - Mutually exclusive with O(src). For thousands of rules O(src) is faster,
        because Ansible templates an inline O(config) value element by element
        (about 0.7 s per 10,000 rules with ansible-core 2.19); the collection's
        C(docs/performance.md) has the figures.
    type: list
    elements: dict
  src:
    description:
      - A YAML or JSON file on the controller that holds the O(config) list (or a
        mapping whose only key is C(config)). It is read by the action plugin on
        the controller, without templating, and validated by the module exactly
        like O(config).
      - A relative path is looked up like the O(ansible.builtin.copy#module:src) of
        other file-taking actions - the role's C(files/) directory, then the
        playbook's directory.
      - Large configurations (from O(src) or an inline O(config), above 64 KiB of
        JSON) reach the host as a JSON file in Ansible's remote temporary directory
        rather than inside the module arguments, which are slow to pass to a
        pipelined module. The module reads O(src) as that JSON file.
      - Mutually exclusive with O(config).
    type: path
  before_after:
    description:
      - How much of the touched tables RV(before) and RV(after) carry.
      - C(full) lists every rule.
      - C(summary) lists the tables and chains with C(policy) and C(rule_count)
        instead of C(rules) (not valid as O(config), so it cannot be fed back by
        mistake). Returning 10,000 rule mappings costs the controller about a
        second; RV(commands) and the diff (C(--diff)) still show every change.
      - C(auto) is C(full) while both sides hold at most 1,000 kernel rules, and
        C(summary) above that.
    type: str
    default: auto
    choices: [auto, full, summary]
  state:
    description:
      - C(merged) creates the listed chains and adds the listed rules that are
        missing, each after the listed rule before it; nothing is removed or moved.
      - C(replaced) makes each listed chain exactly its listed rules (and policy);
        rules matched by O(ignore) stay, each right after the rule of ours it
        follows now (or in the chain's C(ignored_slot)). Chains not listed are untouched.
      - C(overridden) makes each listed table exactly O(config); unlisted user
        chains are deleted and built-in chains not listed become empty with
        policy ACCEPT, except what O(ignore) matches.
      - C(deleted) removes the listed rules, or a listed chain without C(rules)
        as a whole (with the rules that jump to it). Without O(config), every
        table except what O(ignore) matches.
      - C(gathered) returns the host's rules under RV(gathered) in the O(config) format.
      - C(rendered) returns the iptables-restore text of O(config) under
        RV(rendered), without touching any host.
      - C(parsed) turns O(running_config) into the O(config) format under RV(parsed).
    type: str
    default: merged
    choices: [merged, replaced, overridden, deleted, gathered, rendered, parsed]
  ignore:
    description:
      - Regular expressions (Python C(re.search), not anchored) that mark chains
        and rules as someone else's, e.g. C(['^DOCKER', '^f2b-', '^KUBE-', '^docker0$']).
        Matching chains and rules are never changed or removed, nor are the user
        chains that ignored rules jump to (transitively).
      - A chain is ignored when a regex matches its name - unless O(config) lists
        it, nothing in it is touched.
      - A rule is ignored when a regex matches one of these parts of it, each
        searched on its own - its comment (the whole kernel comment, a
        C(hostfw:NAME) included), its jump or goto target, the interface name of
        each C(-i) and C(-o), and the set name of each C(--match-set). Nothing
        else is searched - not its addresses, ports or other options, nor the
        name of the chain it is in.
      - Docker's own FORWARD rules name only its bridge (C(-o docker0 -j ACCEPT)),
        so keeping them under O(state=overridden) needs the bridge in this list.
        fail2ban's ipset actions put their ban straight into INPUT
        (C(-m set --match-set f2b-sshd src -j REJECT)); C(^f2b-) keeps it by its set name.
      - Under O(state=replaced) and O(state=overridden) a kept rule stays right
        after the rule of the chain's config it follows now (at the top when none
        is before it) - unless the chain's C(ignored_slot) selects it.
      - C(ignored_slot) of a chain entry in O(config) is a mapping with C(match)
        (a regular expression or a list of them, searched over the same parts of
        a rule) and optional C(before) (the name of a rule of that chain entry).
        Under O(state=replaced) and O(state=overridden), the rules of that chain
        which O(ignore) keeps and C(match) selects are gathered, in their current
        order, immediately in front of the rule C(before) names (its first kernel
        rule, C(NAME#1), when it expands to several), wherever they are now - or
        at the end of the chain when C(before) is omitted or null, or when the
        rule does not exist in a family. It selects only among ignored rules; it keeps none by
        itself. O(state=merged) and O(state=deleted) never move rules and do not
        use it. For example the role C(hostfw.netfilter.baseline) ignores
        C(^HOSTFW-) and C(^f2b-) and gives INPUT an C(ignored_slot) with C(match)
        C(^HOSTFW-) and C(before) C(baseline-log-drop), so the service roles' jumps
        always sit right before its final log rule while fail2ban's bans stay at the top.
    type: list
    elements: str
    default: []
  running_config:
    description: iptables-save or ip6tables-save text for O(state=parsed).
    type: str
notes:
  - Most runs change nothing, so the module remembers them. After a run that
    changed nothing, or that applied a change, it stores (in
    C(/var/cache/hostfw-netfilter) on the host) a digest of the task - config,
    state, ignore, families, backend, variant and the collection's code - with a
    digest of the tables as the kernel prints them. The next run of the same task
    on the same tables answers from it after one C(iptables-save) per family,
    without validating and planning again (RV(memo) says C(hit)). Any difference
    in the tables or the task is a miss and the full planner decides, so the
    memo can only make a run faster. Set the environment variable
    C(HOSTFW_NETFILTER_CACHE_DIR) to another directory, or to an empty value to
    turn the memo off.
seealso:
  - module: ansible.builtin.iptables
"""

EXAMPLES = r"""
- name: Default-deny inbound for IPv4 and IPv6, keeping Docker's and fail2ban's rules
  hostfw.netfilter.ruleset:
    state: overridden
    ignore: ['^DOCKER', '^f2b-', '^KUBE-']
    config:
      - table: filter
        chains:
          - name: INPUT
            policy: DROP
            rules:
              - {name: loopback, in_interface: lo, jump: ACCEPT}
              - {name: established, ctstate: [ESTABLISHED, RELATED], jump: ACCEPT}
              - {name: ping, icmp_type: echo-request, jump: ACCEPT}
              - {name: ssh, protocol: tcp, destination_port: 22, source: [192.0.2.0/24, 2001:db8::/32], jump: ACCEPT}
              - {name: web, protocol: tcp, destination_port: 8080, jump: HOSTFW-WEB}
          - name: HOSTFW-WEB
            rules:
              - {name: web-accept, jump: ACCEPT}

- name: Add one rule to INPUT without touching anything else
  hostfw.netfilter.ruleset:
    state: merged
    config:
      - chains:
          - name: INPUT
            rules:
              - {name: metrics, protocol: tcp, destination_port: 9100, source: 198.51.100.0/24, jump: ACCEPT}

- name: Remove that rule again
  hostfw.netfilter.ruleset:
    state: deleted
    config:
      - chains:
          - name: INPUT
            rules:
              - {name: metrics, protocol: tcp, destination_port: 9100, source: 198.51.100.0/24, jump: ACCEPT}

- name: Read the host's rules in config format
  hostfw.netfilter.ruleset:
    state: gathered
  register: current

- name: Show what the kernel would be given, without a host
  hostfw.netfilter.ruleset:
    state: rendered
    config:
      - chains:
          - name: INPUT
            rules:
              - {name: ssh, protocol: tcp, destination_port: 22, jump: ACCEPT}
  register: text

- name: Turn saved text into config
  hostfw.netfilter.ruleset:
    state: parsed
    ip_version: ipv4
    running_config: |
      *filter
      :INPUT ACCEPT [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
      COMMIT
"""

RETURN = r"""
rollback_id:
  description: The id of the armed rollback (pass it to M(hostfw.netfilter.confirm)); only with O(rollback_timeout) and a change.
  returned: when a rollback was armed
  type: str
  sample: 3f9c2a7d41b0
rollback_deadline:
  description: When the armed rollback undoes the change unless confirmed (UTC, ISO 8601).
  returned: when a rollback was armed
  type: str
  sample: "2026-12-08T01:15:00Z"
before:
  description:
    - The touched tables before the task, in the O(config) format.
    - With O(before_after=summary) (or C(auto) above 1,000 rules) each chain has
      C(rule_count) instead of C(rules).
  returned: when O(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
after:
  description:
    - The touched tables after the task (or as planned in check mode).
    - Summarised like RV(before).
  returned: when changed
  type: list
  elements: dict
commands:
  description: The restore transaction per family (C(*table) ... C(COMMIT)); empty when nothing changes.
  returned: when O(state) is merged, replaced, overridden or deleted
  type: dict
  sample: {"ipv4": ["*filter", "-A INPUT -p tcp -m tcp --dport 22 -m comment --comment hostfw:ssh -j ACCEPT", "COMMIT"]}
gathered:
  description: The host's tables in the O(config) format.
  returned: when O(state=gathered)
  type: list
  elements: dict
rendered:
  description: Full iptables-restore text of O(config), per family.
  returned: when O(state=rendered)
  type: dict
  sample: {"ipv4": "*filter\n:INPUT ACCEPT [0:0]\n...COMMIT\n"}
parsed:
  description: O(running_config) in the O(config) format.
  returned: when O(state=parsed)
  type: list
  elements: dict
backend:
  description: The backend used.
  returned: when the host was read
  type: str
  sample: restore
variant:
  description: The iptables variant of the host, C(nf_tables) or C(legacy).
  returned: when the host was read
  type: str
  sample: nf_tables
memo:
  description: C(hit) when the answer came from the no-op memo (see the notes), C(miss) otherwise.
  returned: when O(state) is merged, replaced, overridden or deleted
  type: str
  sample: hit
timings:
  description:
    - Seconds spent in each phase of the module - C(validate) (reading O(src) and
      compiling O(config)), C(read) (C(iptables-save) and parsing it), C(plan),
      C(render) (the restore text), C(apply) and C(result).
  returned: when O(state) is merged, replaced, overridden or deleted
  type: dict
  sample: {"validate": 0.012, "read": 0.02, "plan": 0.003, "render": 0.001, "apply": 0.03, "result": 0.004}
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hostfw.netfilter.plugins.module_utils import _module
from ansible_collections.hostfw.netfilter.plugins.module_utils._host import ipsets
from ansible_collections.hostfw.netfilter.plugins.module_utils._host import memo as _memo
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.gather import (
    tables_to_config,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables.save import parse_save
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan import sets as SETS
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.config import compile_config
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.ignore import Ignore
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.rebase import protect
from ansible_collections.hostfw.netfilter.plugins.module_utils._plan.states import (
    plan,
    render_config,
)
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError
from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.naming import families_of


def _parsed(text, ip_version):
    if ip_version == "both":
        v6 = any(tok in text for tok in ("ipv6-icmp", "icmp6", "/128", "/64", "::"))
        ip_version = "ipv6" if v6 else "ipv4"
    return tables_to_config({ip_version: parse_save(text)})


def _read_src(module, path):
    """The bytes of the JSON file the action plugin put on the host."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        module.fail_json(msg="src: cannot read %s: %s" % (path, e))


def _load_src(module, path, data):
    try:
        config = json.loads(data.decode("utf-8"))
    except ValueError as e:
        module.fail_json(msg="src: cannot read %s as JSON: %s" % (path, e))
    if not isinstance(config, list):
        module.fail_json(msg="src: %s must hold a list of tables" % path)
    return config


def argument_spec():
    spec = dict(
        config=dict(type="list", elements="dict"),
        src=dict(type="path"),
        before_after=dict(type="str", default="auto", choices=["auto", "full", "summary"]),
        state=dict(
            type="str",
            default="merged",
            choices=[
                "merged",
                "replaced",
                "overridden",
                "deleted",
                "gathered",
                "rendered",
                "parsed",
            ],
        ),
        ignore=dict(type="list", elements="str", default=[]),
        running_config=dict(type="str"),
        protect_connection=dict(type="bool", default=True),
    )
    spec.update(_module.COMMON_ARGS)
    spec.update(_module.CHANGING_ARGS)
    return spec


def _module_of():
    return AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("config", "src")],
        required_if=[
            ("state", "merged", ("config", "src"), True),
            ("state", "replaced", ("config", "src"), True),
            ("state", "overridden", ("config", "src"), True),
            ("state", "rendered", ("config", "src"), True),
            ("state", "parsed", ("running_config",)),
        ],
    )


def _offline(module, families, src_bytes, clock):
    """parsed and rendered answer without the host; gathered validates its config."""
    p = module.params
    if p["state"] == "parsed":
        try:
            module.exit_json(changed=False, parsed=_parsed(p["running_config"], p["ip_version"]))
        except (ValueError, IndexError) as e:
            module.fail_json(msg="running_config: cannot parse: %s" % e)
    if p["state"] in ("rendered", "gathered"):
        desired = _desired(module, src_bytes, families)
        clock.lap("validate")
        if p["state"] == "rendered":
            module.exit_json(changed=False, rendered=render_config(desired))


def _memo_lookup(module, memo, backend, families, src_bytes, texts, clock):
    """The memo key of the task; exits with the remembered answer on a hit."""
    p = module.params
    key = _memo.task_key(p, families, backend, src_bytes)
    hit = memo.recall(key, texts)
    if hit is None:
        return key
    clock.lap("memo")
    for w in hit.get("warnings") or ():
        module.warn(w)
    info = dict(backend=backend.name, variant=backend.variant)
    result = dict(hit["result"], memo="hit", timings=clock.laps, **info)
    if module._diff:
        result["diff"] = []
    module.exit_json(invocation=_module.invocation(p), **result)


def main():
    module = _module_of()
    p = module.params
    families = families_of(p["ip_version"])
    clock = _module.Clock()
    src_bytes = _read_src(module, p["src"]) if p["src"] is not None else None
    _offline(module, families, src_bytes, clock)

    backend = _module.make_backend(module)
    info = dict(backend=backend.name, variant=backend.variant)
    memo = _memo.Memo() if p["state"] != "gathered" else None
    with backend.lock():
        texts = _module.read_texts(module, backend, families)
        clock.lap("read")
        if memo is None:
            gathered = tables_to_config(_module.parse_texts(module, texts))
            module.exit_json(changed=False, gathered=gathered, **info)
        key = _memo_lookup(module, memo, backend, families, src_bytes, texts, clock)
        desired = _desired(module, src_bytes, families)
        set_warnings = _check_sets(module, desired)
        planner = _planner(module, desired, families)
        clock.lap("validate")
        current = _module.parse_texts(module, texts)
        clock.lap("parse")
        plans, retried = _module.settle(module, backend, planner, families, current, clock)
    result, warnings = _module.plan_result(plans, families, module._diff, p["before_after"])
    warnings = set_warnings + [w for w in warnings if w not in set_warnings]
    clock.lap("result")
    if not retried:  # a plan made again kept rules of another writer: not the answer to remember
        memo.remember(key, texts, current, plans, result, warnings, not module.check_mode)
        clock.lap("memo")
    for w in warnings:
        module.warn(w)
    result.update(info, memo="miss", timings=clock.laps, invocation=_module.invocation(p))
    result.update(_module.rollback_result(module))
    module.exit_json(**result)


_NEEDS_CONFIG = ("merged", "replaced", "overridden")


def _desired(module, src_bytes, families):
    """The validated config: from the src file, or from the config option."""
    p = module.params
    config = _load_src(module, p["src"], src_bytes) if src_bytes is not None else p["config"]
    if p["state"] in _NEEDS_CONFIG and config is not None and not config:
        module.fail_json(
            msg="config: state %s needs at least one table entry, got an empty list%s (it would "
            "change nothing; to remove every rule that ignore does not keep, use state: deleted "
            "without config)" % (p["state"], " from src %s" % p["src"] if p["src"] else "")
        )
    try:
        return compile_config(config or [], families)
    except RuleError as e:
        module.fail_json(msg=str(e))


def _check_sets(module, desired):
    """The rules that match ipsets against the host's sets (one ipset list -t,
    only when a rule matches a set). -> warnings (check mode only)."""
    sets = ipsets.read(module) if SETS.desired_names(desired) else None
    if sets is None:
        return []
    try:
        return SETS.check_desired(desired, sets, module.check_mode)
    except RuleError as e:
        module.fail_json(msg=str(e))


def _planner(module, desired, families):
    """The state's planning as a function of the host's tables (and of the
    rules another writer added meanwhile, kept like ignored ones)."""
    p = module.params
    try:
        ignore = Ignore(p["ignore"])
    except RuleError as e:
        module.fail_json(msg=str(e))

    def planner(current, keep):
        return plan(current, desired, p["state"], protect(ignore, keep), families)

    return planner


if __name__ == "__main__":
    main()
