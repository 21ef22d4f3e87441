# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""THE table of rule keys: one row per key of the vocabulary.

Each row says where the key lives in an iptables rule (its group: the base
options, a match module, the target), its option flag and number of words, its
value check (checks.py), how it renders to canonical save words and reads back
from them (codec.py), how a packet is tested against it (packet_tests.py), and
its one-line documentation. Validation, rendering, reading back, the
python-iptables translation, the connection guard and the rule module's
documentation are all driven by this table; adding a key is one row here plus
its functions and test cases.

The rows are in canonical order: the order in which ``iptables-save`` prints the
options of a rule we render, which is also the order the checks run in (so the
ports see the protocol). Rows of one match module are contiguous. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from functools import partial

from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import checks as C
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import codec as X
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import constants as V
from ansible_collections.hostfw.netfilter.plugins.module_utils._iptables import packet_tests as T

# groups that are not match modules
RULE = "rule"  # about the rule itself: handled by the compiler, never rendered as such
BASE = "base"  # options before any match: -s -d -i -o -p -f
TARGET = "target"  # -j / -g and the target's options
# match groups whose module name depends on the rule: the port match is named
# after the protocol, the ICMP match after the family
PORTS = "ports"
ICMP = "icmp"
# the conntrack states: -m conntrack --ctstate, or the older -m state --state
CTSTATE = "conntrack"
GROUP_MODULES = {
    PORTS: tuple(V.PORT_MATCH.values()),
    ICMP: ("icmp", "icmp6"),
    CTSTATE: ("conntrack", "state"),
}


class Key:
    """One row of the table. ``flag`` is the option word (None for keys that
    are rendered by another row); ``nargs`` the words after it; ``matches`` is
    False for keys that do not restrict which packets match (names, targets)."""

    __slots__ = ("name", "group", "flag", "nargs", "check", "render", "read", "test", "doc")

    def __init__(self, name, group, flag, check, render, read, test, doc, nargs=1):
        self.name = name
        self.group = group
        self.flag = flag
        self.nargs = nargs
        self.check = check
        self.render = render
        self.read = read
        self.test = test
        self.doc = doc

    @property
    def matches(self):
        return self.group not in (RULE, TARGET) and self.name not in _NOT_MATCHES


_NOT_MATCHES = frozenset(("comment", "match_set_flags", "limit_burst"))


KEYS = (
    # -- about the rule itself (checked by the compiler, see rule.py)
    Key("name", RULE, None, None, None, None, None,
        "The rule's identity, unique in its chain (letters, digits and C(_.:@+=/#-), no "
        "spaces), stored in the kernel as the comment C(hostfw:NAME); with a list of "
        "addresses the kernel rules are named C(NAME#1), C(NAME#2)..."),
    Key("table", RULE, None, None, None, None, None,
        "The table (C(filter), C(nat), C(mangle), C(raw), C(security)); in a config it "
        "must equal the table the rule is listed under."),
    Key("chain", RULE, None, None, None, None, None,
        "The chain; in a config it must equal the chain the rule is listed under."),
    Key("ip_version", RULE, None, None, None, None, None,
        "C(ipv4), C(ipv6) or C(both): the families the rule applies to (the task's "
        "families by default; a rule whose addresses are all of one family applies to "
        "that family only)."),
    Key("match", RULE, None, None, None, None, None,
        "Match modules named as in M(ansible.builtin.iptables). Each is added anyway by the "
        "keys that need it; naming C(state) writes O(ctstate) with the older state match, "
        "and the protocol's own match (C(tcp)...) and C(limit) are kept without options, "
        "as iptables keeps them."),
    Key("raw", RULE, None, None, None, None, None,
        "A rule exactly as iptables-save prints it after C(-A CHAIN), for what the "
        "vocabulary cannot say; not combined with other keys."),
    Key("counters", RULE, None, None, None, None, None,
        "Read-only packet and byte counters (M(hostfw.netfilter.rules_info) with "
        "C(counters)); ignored on input."),
    # -- base options
    Key("source", BASE, "-s", C.check_source, X.render_address("-s", "src"),
        X.read_value("source"), T.test_address("src"),
        "Source address or network, C(!) to negate; a list expands to one kernel rule per "
        "address. Decides the family when O(ip_version=both)."),
    Key("destination", BASE, "-d", C.check_destination, X.render_address("-d", "dst"),
        X.read_value("destination"), T.test_address("dst"),
        "Destination address or network, C(!) to negate; a list expands like O(source)."),
    Key("in_interface", BASE, "-i", partial(C.check_interface, key="in_interface"),
        X.render_pair("-i", "in_interface"), X.read_value("in_interface"),
        T.test_interface("in_iface"),
        "Incoming interface, C(!) to negate; C(+) at the end matches a prefix."),
    Key("out_interface", BASE, "-o", partial(C.check_interface, key="out_interface"),
        X.render_pair("-o", "out_interface"), X.read_value("out_interface"),
        T.test_interface("out_iface"),
        "Outgoing interface, C(!) to negate; C(+) at the end matches a prefix."),
    Key("protocol", BASE, "-p", C.check_protocol, X.render_protocol, X.read_protocol,
        T.test_protocol,
        "C(tcp), C(udp), C(icmp), C(ipv6-icmp), C(sctp), C(all)... or a number, C(!) to "
        "negate; C(icmp) means ICMPv6 in IPv6."),
    Key("fragment", BASE, "-f", C.check_fragment, X.render_fragment, X.read_fragment,
        T.test_fragment, "Match second and later fragments only (IPv4).", nargs=0),
    # -- the protocol's own match: -m tcp / udp / sctp / dccp
    Key("source_port", PORTS, "--sport", partial(C.check_port, key="source_port"),
        X.render_port("--sport", "source_port"), X.read_port("source_port"),
        T.test_port("sport"),
        "Source port or range C(first:last), C(!) to negate (needs O(protocol))."),
    Key("destination_port", PORTS, "--dport", partial(C.check_port, key="destination_port"),
        X.render_port("--dport", "destination_port"), X.read_port("destination_port"),
        T.test_port("dport"),
        "Destination port or range C(first:last), C(!) to negate (needs O(protocol))."),
    Key("syn", PORTS, None, C.check_syn, None, None, T.test_syn,
        "C(match) (only TCP SYN packets), C(negate) (all but those) or C(ignore) (TCP)."),
    Key("tcp_flags", PORTS, "--tcp-flags", C.check_tcp_flags,
        X.render_pair("--tcp-flags", "tcp_flags"), X.read_tcp_flags, T.test_tcp_flags,
        "A mapping with C(flags) (the flags examined) and C(flags_set) (those that must be "
        "set) lists (TCP).", nargs=2),
    # -- -m icmp / icmp6
    Key("icmp_type", ICMP, "--icmp-type", C.check_icmp_type, X.render_icmp_type,
        X.read_icmp_type, T.test_icmp_type,
        "ICMP type name or number, C(!) to negate; names map per family (C(echo-request) is "
        "8 and 128). Implies O(protocol=icmp)."),
    # -- other matches
    Key("destination_ports", "multiport", "--dports", C.check_ports,
        X.render_plain("--dports", "destination_ports"), X.read_ports, T.test_ports,
        "Up to 15 destination ports or ranges (multiport match; needs O(protocol))."),
    Key("src_range", "iprange", "--src-range", partial(C.check_range, key="src_range"),
        X.render_pair("--src-range", "src_range"), X.read_value("src_range"),
        T.test_range("src"), "Source address range C(first-last), C(!) to negate."),
    Key("dst_range", "iprange", "--dst-range", partial(C.check_range, key="dst_range"),
        X.render_pair("--dst-range", "dst_range"), X.read_value("dst_range"),
        T.test_range("dst"), "Destination address range C(first-last), C(!) to negate."),
    Key("match_set", "set", "--match-set", C.check_match_set,
        X.render_pair("--match-set", "match_set"), X.read_match_set, T.test_match_set,
        "Name of an ipset to match, C(!) to negate (needs O(match_set_flags)).", nargs=2),
    Key("match_set_flags", "set", None, C.check_match_set_flags, None, None, None,
        "C(src), C(dst), C(src,dst)... - which addresses O(match_set) looks up."),
    Key("ctstate", CTSTATE, "--ctstate", C.check_ctstate, X.render_ctstate,
        X.read_ctstate, T.test_ctstate,
        "List of conntrack states (C(NEW), C(ESTABLISHED), C(RELATED), C(INVALID), "
        "C(UNTRACKED)...), or one comma-separated string; with O(match=[state]) written "
        "as the older state match (C(-m state --state)), as M(ansible.builtin.iptables) "
        "does."),
    Key("limit", "limit", "--limit", C.check_limit, X.render_limit,
        X.read_value("limit", allow_neg=False), T.test_limit,
        "Average rate such as C(5/minute) (limit match; C(3/hour) when only O(limit_burst) "
        "is given)."),
    Key("limit_burst", "limit", "--limit-burst", C.check_limit_burst, None,
        X.read_value("limit_burst", allow_neg=False, convert=int), None,
        "Burst for O(limit) (default 5)."),
    Key("uid_owner", "owner", "--uid-owner", partial(C.check_owner, key="uid_owner"),
        X.render_pair("--uid-owner", "uid_owner"), X.read_value("uid_owner"),
        T.test_owner("uid"),
        "User id of the local sender, C(!) to negate (OUTPUT and POSTROUTING only)."),
    Key("gid_owner", "owner", "--gid-owner", partial(C.check_owner, key="gid_owner"),
        X.render_pair("--gid-owner", "gid_owner"), X.read_value("gid_owner"),
        T.test_owner("gid"),
        "Group id of the local sender, C(!) to negate (OUTPUT and POSTROUTING only)."),
    Key("comment", "comment", "--comment", C.check_comment, X.render_comment,
        X.read_comment, None,
        "A comment kept in the kernel (after C(hostfw:NAME) when the rule has a name)."),
    # -- the target
    Key("jump", TARGET, "-j", C.check_jump, X.render_plain("-j", "jump"),
        X.read_target("jump"), None,
        "Target (C(ACCEPT), C(DROP), C(REJECT), C(LOG), C(RETURN)...) or user chain."),
    Key("goto", TARGET, "-g", C.check_goto, X.render_plain("-g", "goto"),
        X.read_target("goto"), None,
        "User chain to continue in without returning (not with O(jump))."),
    Key("reject_with", TARGET, "--reject-with", C.check_reject_with, X.render_reject_with,
        X.read_reject_with, None,
        "ICMP reply of C(REJECT) (implies O(jump=REJECT)); names map per family."),
    Key("log_prefix", TARGET, "--log-prefix", C.check_log_prefix,
        X.render_plain("--log-prefix", "log_prefix"), X.read_value("log_prefix", False),
        None, "Prefix of C(LOG) messages, at most 29 bytes (implies O(jump=LOG), as in "
        "M(ansible.builtin.iptables))."),
    Key("log_level", TARGET, "--log-level", C.check_log_level, X.render_log_level,
        X.read_value("log_level", allow_neg=False, convert=int), None,
        "Syslog level of C(LOG) messages, a name or 0-7 (implies O(jump=LOG))."),
)  # fmt: skip

BY_NAME = {k.name: k for k in KEYS}
NAMES = tuple(k.name for k in KEYS)
# the rows that check a key's value, in order
CHECKED = tuple(k for k in KEYS if k.check is not None)
# the rows that render words, grouped in canonical order: [(group, [Key])]
RENDERED = []
for _k in KEYS:
    if _k.render is None:
        continue
    if not RENDERED or RENDERED[-1][0] != _k.group:
        RENDERED.append((_k.group, []))
    RENDERED[-1][1].append(_k)
RENDERED = tuple((g, tuple(rows)) for g, rows in RENDERED)
# the libiptc entry field (python-iptables Rule attribute) each base option sets
_ENTRY_FIELD = {
    "source": "src",
    "destination": "dst",
    "in_interface": "in_interface",
    "out_interface": "out_interface",
    "protocol": "protocol",
    "fragment": "fragment",
}
ENTRY_FIELDS = {k.flag: (_ENTRY_FIELD[k.name], k.nargs) for k in KEYS if k.group == BASE}


def _readers():
    """{(group, flag): Key} for reading saved words back."""
    out = {}
    for k in KEYS:
        if k.read is not None:
            out[(k.group, k.flag)] = k
    out[(ICMP, "--icmpv6-type")] = BY_NAME["icmp_type"]
    ct = BY_NAME["ctstate"]
    out[(CTSTATE, "--state")] = Key(
        ct.name, ct.group, "--state", ct.check, ct.render, X.read_state, ct.test, ct.doc
    )
    return out


READERS = _readers()
# match module name as saved -> group
MODULE_GROUPS = {m: g for g, mods in GROUP_MODULES.items() for m in mods}
# what a module implies when saved without an option (limit without --limit)
MODULE_DEFAULTS = {"limit": ("limit", V.LIMIT_DEFAULT)}


def module_name(group, p, family):
    """The -m module of a match group for one parsed rule and family."""
    if group == PORTS:
        return V.PORT_MATCH[p.proto_name]
    if group == ICMP:
        return "icmp" if family == "ipv4" else "icmp6"
    if group == CTSTATE:
        return p.fields.get("ctstate_module", "conntrack")
    return group


def group_of_module(module):
    return MODULE_GROUPS.get(module, module)
