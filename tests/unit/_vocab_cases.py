"""The vocabulary table shared by test_vocabulary (the model's answer) and
test_kernel_canonical (the kernel's answer to the same rule).

Each case: a desired rule mapping, the chain and families it is compiled for, and
the canonical line(s) iptables-save prints per family after ``-A CHAIN``. A list of
lines means the rule expands to several kernel rules. ``native`` is the same rule
written the way a person types it for iptables (not canonical): the kernel must
print it back as the expected line too. ``chains`` are user chains the rule jumps
to; ``sets`` are ipsets (name -> family) the rule needs in the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BOTH = ("ipv4", "ipv6")


@dataclass
class Case:
    id: str
    rule: dict
    expected: dict  # family -> line or list of lines
    chain: str = "INPUT"
    families: tuple = BOTH
    native: dict = field(default_factory=dict)  # family -> line
    chains: tuple = ()
    sets: dict = field(default_factory=dict)
    raw: bool = False  # the rule is outside the vocabulary on purpose

    def lines(self, family):
        got = self.expected.get(family, [])
        return [got] if isinstance(got, str) else list(got)


def both(line):
    return {"ipv4": line, "ipv6": line}


def v4(line):
    return {"ipv4": line}


def v6(line):
    return {"ipv6": line}


A = {"jump": "ACCEPT"}

CASES = [
    # ------------------------------------------------------------ protocol
    Case("protocol-tcp", {"protocol": "tcp", **A}, both("-p tcp -j ACCEPT")),
    Case(
        "protocol-upper-udp",
        {"protocol": "UDP", **A},
        both("-p udp -j ACCEPT"),
        native=v4("-p UDP -j ACCEPT"),
    ),
    Case(
        "protocol-number-6",
        {"protocol": 6, **A},
        both("-p tcp -j ACCEPT"),
        native=both("-p 6 -j ACCEPT"),
    ),
    Case(
        "protocol-gre-by-name",
        {"protocol": "gre", **A},
        both("-p 47 -j ACCEPT"),
        native=both("-p gre -j ACCEPT"),
    ),
    Case("protocol-negated", {"protocol": "!tcp", "jump": "DROP"}, both("! -p tcp -j DROP")),
    Case("protocol-all", {"protocol": "all", **A}, both("-j ACCEPT")),
    Case(
        "protocol-icmp-per-family",
        {"protocol": "icmp", **A},
        {"ipv4": "-p icmp -j ACCEPT", "ipv6": "-p ipv6-icmp -j ACCEPT"},
        native=v6("-p icmpv6 -j ACCEPT"),
    ),
    Case("protocol-icmpv6-is-ipv6", {"protocol": "icmpv6", **A}, v6("-p ipv6-icmp -j ACCEPT")),
    Case("protocol-esp", {"protocol": "esp", **A}, both("-p esp -j ACCEPT")),
    Case(
        "protocol-sctp-port",
        {"protocol": "sctp", "destination_port": 2905, **A},
        both("-p sctp -m sctp --dport 2905 -j ACCEPT"),
    ),
    Case("no-target", {"protocol": "udp"}, both("-p udp")),
    # ------------------------------------------------------------ addresses
    Case(
        "source-host-gets-32",
        {"source": "192.0.2.1", **A},
        v4("-s 192.0.2.1/32 -j ACCEPT"),
        native=v4("-s 192.0.2.1 -j ACCEPT"),
    ),
    Case(
        "source-host-bits-cleared",
        {"source": "192.0.2.77/24", **A},
        v4("-s 192.0.2.0/24 -j ACCEPT"),
        native=v4("-s 192.0.2.77/24 -j ACCEPT"),
    ),
    Case(
        "source-netmask",
        {"source": "198.51.100.0/255.255.255.0", **A},
        v4("-s 198.51.100.0/24 -j ACCEPT"),
        native=v4("-s 198.51.100.0/255.255.255.0 -j ACCEPT"),
    ),
    Case(
        "destination-ipv6-compressed",
        {"destination": "2001:0db8:0000:0000:0000:0000:0000:0001", **A},
        v6("-d 2001:db8::1/128 -j ACCEPT"),
        native=v6("-d 2001:0db8:0000:0000:0000:0000:0000:0001 -j ACCEPT"),
    ),
    Case(
        "destination-ipv6-host-bits",
        {"destination": "2001:db8:1:2:3:4:5:6/48", **A},
        v6("-d 2001:db8:1::/48 -j ACCEPT"),
        native=v6("-d 2001:db8:1:2:3:4:5:6/48 -j ACCEPT"),
    ),
    Case(
        "source-ipv6-single-zero-group",
        {"source": "2001:db8:0:1:1:1:1:1", **A},
        v6("-s 2001:db8:0:1:1:1:1:1/128 -j ACCEPT"),
    ),
    Case(
        "source-ipv4-mapped",
        {"source": "::ffff:192.0.2.1", **A},
        v6("-s ::ffff:192.0.2.1/128 -j ACCEPT"),
        native=v6("-s ::ffff:c000:201 -j ACCEPT"),
    ),
    Case(
        "source-negated",
        {"source": "!192.0.2.0/24", "jump": "DROP"},
        v4("! -s 192.0.2.0/24 -j DROP"),
    ),
    Case(
        "source-negated-space",
        {"source": "! 2001:db8::/32", "jump": "DROP"},
        v6("! -s 2001:db8::/32 -j DROP"),
    ),
    Case("source-any-ipv4", {"source": "0.0.0.0/0", **A}, v4("-j ACCEPT")),
    Case(
        "source-list-one-family",
        {"source": ["192.0.2.1", "198.51.100.0/24"], **A},
        v4(["-s 192.0.2.1/32 -j ACCEPT", "-s 198.51.100.0/24 -j ACCEPT"]),
    ),
    Case(
        "source-list-both-families-named",
        {"name": "admins", "source": ["192.0.2.1", "2001:db8::1"], **A},
        {
            "ipv4": "-s 192.0.2.1/32 -m comment --comment hostfw:admins#1 -j ACCEPT",
            "ipv6": "-s 2001:db8::1/128 -m comment --comment hostfw:admins#2 -j ACCEPT",
        },
    ),
    Case(
        "source-destination-lists",
        {"source": ["192.0.2.1", "2001:db8::1"], "destination": ["198.51.100.1"], **A},
        v4("-s 192.0.2.1/32 -d 198.51.100.1/32 -j ACCEPT"),
    ),
    # ------------------------------------------------------------ ports
    Case(
        "dport-int",
        {"protocol": "tcp", "destination_port": 22, **A},
        both("-p tcp -m tcp --dport 22 -j ACCEPT"),
        native=both("-p tcp --dport 22 -j ACCEPT"),
    ),
    Case(
        "dport-single-range",
        {"protocol": "tcp", "destination_port": "22:22", **A},
        both("-p tcp -m tcp --dport 22 -j ACCEPT"),
        native=both("-p tcp --dport 22:22 -j ACCEPT"),
    ),
    Case(
        "dport-range",
        {"protocol": "tcp", "destination_port": "1000:2000", **A},
        both("-p tcp -m tcp --dport 1000:2000 -j ACCEPT"),
    ),
    Case(
        "dport-range-dash",
        {"protocol": "udp", "destination_port": "1000-2000", **A},
        both("-p udp -m udp --dport 1000:2000 -j ACCEPT"),
    ),
    Case(
        "dport-open-range",
        {"protocol": "tcp", "destination_port": "1024:", **A},
        both("-p tcp -m tcp --dport 1024:65535 -j ACCEPT"),
        native=both("-p tcp --dport 1024: -j ACCEPT"),
    ),
    Case(
        "dport-negated",
        {"protocol": "tcp", "destination_port": "!22", "jump": "DROP"},
        both("-p tcp -m tcp ! --dport 22 -j DROP"),
    ),
    # nf_tables prints a negated range that starts at 0 as its complement (legacy
    # keeps it as typed); the canonical form both variants print back is the complement
    Case(
        "sport-negated-range-from-0",
        {"protocol": "tcp", "source_port": "!0:1023", **A},
        both("-p tcp -m tcp --sport 1024:65535 -j ACCEPT"),
    ),
    Case(
        "dport-negated-range-from-0-to-65534",
        {"protocol": "udp", "destination_port": "!:65534", "jump": "DROP"},
        both("-p udp -m udp --dport 65535 -j DROP"),
    ),
    Case(
        "dport-negated-range-to-65535-kept",
        {"protocol": "tcp", "destination_port": "!1024:65535", "jump": "DROP"},
        both("-p tcp -m tcp ! --dport 1024:65535 -j DROP"),
    ),
    Case(
        "sport-udp",
        {"protocol": "udp", "source_port": 53, **A},
        both("-p udp -m udp --sport 53 -j ACCEPT"),
    ),
    Case(
        "sport-and-dport",
        {"protocol": "tcp", "source_port": "1024:65535", "destination_port": "443", **A},
        both("-p tcp -m tcp --sport 1024:65535 --dport 443 -j ACCEPT"),
        native=both("-p tcp --dport 443 --sport 1024: -j ACCEPT"),
    ),
    Case(
        "multiport",
        {"protocol": "tcp", "destination_ports": [80, "443", "8000:8080"], **A},
        both("-p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT"),
    ),
    Case(
        "multiport-single-range",
        {"protocol": "udp", "destination_ports": ["22:22", 53]},
        both("-p udp -m multiport --dports 22,53"),
    ),
    # ------------------------------------------------------------ interfaces
    Case("in-interface", {"in_interface": "lo", **A}, both("-i lo -j ACCEPT")),
    Case("in-interface-wildcard", {"in_interface": "eth+", **A}, both("-i eth+ -j ACCEPT")),
    Case("in-interface-negated", {"in_interface": "!lo", "jump": "DROP"}, both("! -i lo -j DROP")),
    Case(
        "out-interface-forward",
        {"in_interface": "br0", "out_interface": "docker0", **A},
        both("-i br0 -o docker0 -j ACCEPT"),
        chain="FORWARD",
        native=both("-o docker0 -i br0 -j ACCEPT"),
    ),
    Case(
        "out-interface-output",
        {"out_interface": "wg0", "jump": "DROP"},
        both("-o wg0 -j DROP"),
        chain="OUTPUT",
    ),
    # ------------------------------------------------------------ conntrack
    Case(
        "ctstate-order",
        {"ctstate": ["ESTABLISHED", "RELATED"], **A},
        both("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
        native=both("-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"),
    ),
    Case(
        "ctstate-lowercase",
        {"ctstate": ["new", "invalid"], "jump": "DROP"},
        both("-m conntrack --ctstate INVALID,NEW -j DROP"),
    ),
    Case(
        "ctstate-single",
        {"ctstate": "INVALID", "jump": "DROP"},
        both("-m conntrack --ctstate INVALID -j DROP"),
    ),
    # ------------------------------------------------------------ icmp
    Case(
        "icmp-echo-request",
        {"protocol": "icmp", "icmp_type": "echo-request", **A},
        {
            "ipv4": "-p icmp -m icmp --icmp-type 8 -j ACCEPT",
            "ipv6": "-p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT",
        },
        native={
            "ipv4": "-p icmp --icmp-type echo-request -j ACCEPT",
            "ipv6": "-p icmpv6 --icmpv6-type echo-request -j ACCEPT",
        },
    ),
    Case(
        "icmp-type-implies-protocol",
        {"icmp_type": "echo-reply", **A},
        {
            "ipv4": "-p icmp -m icmp --icmp-type 0 -j ACCEPT",
            "ipv6": "-p ipv6-icmp -m icmp6 --icmpv6-type 129 -j ACCEPT",
        },
    ),
    Case(
        "icmp-neighbour-solicitation-ipv6-only",
        {"icmp_type": "neighbour-solicitation", **A},
        v6("-p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT"),
        native=v6("-p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT"),
    ),
    Case(
        "icmp-fragmentation-needed",
        {"protocol": "icmp", "icmp_type": "fragmentation-needed", **A},
        {
            "ipv4": "-p icmp -m icmp --icmp-type 3/4 -j ACCEPT",
            "ipv6": "-p ipv6-icmp -m icmp6 --icmpv6-type 2 -j ACCEPT",
        },
        native={
            "ipv4": "-p icmp --icmp-type fragmentation-needed -j ACCEPT",
            "ipv6": "-p ipv6-icmp --icmpv6-type packet-too-big -j ACCEPT",
        },
    ),
    Case(
        "icmp-packet-too-big",
        {"protocol": "icmp", "icmp_type": "packet-too-big", **A},
        {
            "ipv4": "-p icmp -m icmp --icmp-type 3/4 -j ACCEPT",
            "ipv6": "-p ipv6-icmp -m icmp6 --icmpv6-type 2 -j ACCEPT",
        },
    ),
    Case(
        "icmp-port-unreachable",
        {"icmp_type": "port-unreachable", **A},
        {
            "ipv4": "-p icmp -m icmp --icmp-type 3/3 -j ACCEPT",
            "ipv6": "-p ipv6-icmp -m icmp6 --icmpv6-type 1/4 -j ACCEPT",
        },
    ),
    Case(
        "icmp-time-exceeded",
        {"icmp_type": "time-exceeded", **A},
        {
            "ipv4": "-p icmp -m icmp --icmp-type 11 -j ACCEPT",
            "ipv6": "-p ipv6-icmp -m icmp6 --icmpv6-type 3 -j ACCEPT",
        },
    ),
    Case(
        "icmp-numeric-ipv4",
        {"icmp_type": "8", "ip_version": "ipv4", **A},
        v4("-p icmp -m icmp --icmp-type 8 -j ACCEPT"),
        native=v4("-p icmp --icmp-type echo-request -j ACCEPT"),
    ),
    Case(
        "icmp-numeric-with-code-ipv6",
        {"icmp_type": "1/3", "ip_version": "ipv6", **A},
        v6("-p ipv6-icmp -m icmp6 --icmpv6-type 1/3 -j ACCEPT"),
        native=v6("-p ipv6-icmp --icmpv6-type address-unreachable -j ACCEPT"),
    ),
    Case(
        "icmp-any-ipv4",
        {"icmp_type": "any", **A},
        v4("-p icmp -m icmp --icmp-type any -j ACCEPT"),
        native=v4("-p icmp --icmp-type 255 -j ACCEPT"),
    ),
    Case(
        "icmp-negated",
        {"icmp_type": "!echo-request", "jump": "DROP"},
        {
            "ipv4": "-p icmp -m icmp ! --icmp-type 8 -j DROP",
            "ipv6": "-p ipv6-icmp -m icmp6 ! --icmpv6-type 128 -j DROP",
        },
    ),
    # ------------------------------------------------------------ iprange
    Case(
        "src-range-ipv4",
        {"src_range": "192.0.2.10-192.0.2.20", **A},
        v4("-m iprange --src-range 192.0.2.10-192.0.2.20 -j ACCEPT"),
    ),
    Case(
        "dst-range-ipv6-negated",
        {"dst_range": "!2001:db8:0::10-2001:db8::20", "jump": "DROP"},
        v6("-m iprange ! --dst-range 2001:db8::10-2001:db8::20 -j DROP"),
    ),
    Case(
        "src-and-dst-range",
        {"src_range": "192.0.2.1-192.0.2.2", "dst_range": "198.51.100.1-198.51.100.9", **A},
        v4(
            "-m iprange --src-range 192.0.2.1-192.0.2.2 --dst-range 198.51.100.1-198.51.100.9 -j ACCEPT"
        ),
    ),
    # ------------------------------------------------------------ set
    Case(
        "match-set-ipv4",
        {"match_set": "hfw4", "match_set_flags": "src", "ip_version": "ipv4", "jump": "DROP"},
        v4("-m set --match-set hfw4 src -j DROP"),
        sets={"hfw4": "ipv4"},
    ),
    Case(
        "match-set-ipv6-negated",
        {"match_set": "!hfw6", "match_set_flags": "src,dst", "ip_version": "ipv6", **A},
        v6("-m set ! --match-set hfw6 src,dst -j ACCEPT"),
        sets={"hfw6": "ipv6"},
    ),
    # ------------------------------------------------------------ limit
    Case(
        "limit-per-second",
        {"limit": "5/second", **A},
        both("-m limit --limit 5/sec -j ACCEPT"),
        native=both("-m limit --limit 5/second -j ACCEPT"),
    ),
    Case(
        "limit-per-minute",
        {"limit": "10/minute", **A},
        both("-m limit --limit 10/min -j ACCEPT"),
        native=both("-m limit --limit 10/minute -j ACCEPT"),
    ),
    Case(
        "limit-60-minute-is-1-sec",
        {"limit": "60/minute", **A},
        both("-m limit --limit 1/sec -j ACCEPT"),
        native=both("-m limit --limit 60/minute -j ACCEPT"),
    ),
    Case(
        "limit-3600-hour-is-1-sec",
        {"limit": "3600/hour", **A},
        both("-m limit --limit 1/sec -j ACCEPT"),
        native=both("-m limit --limit 3600/hour -j ACCEPT"),
    ),
    Case(
        "limit-7-minute",
        {"limit": "7/m", **A},
        both("-m limit --limit 7/min -j ACCEPT"),
        native=both("-m limit --limit 7/minute -j ACCEPT"),
    ),
    Case(
        "limit-per-day",
        {"limit": "2/day", **A},
        both("-m limit --limit 2/day -j ACCEPT"),
    ),
    Case(
        "limit-burst-default-omitted",
        {"limit": "1/hour", "limit_burst": 5, **A},
        both("-m limit --limit 1/hour -j ACCEPT"),
        native=both("-m limit --limit 1/hour --limit-burst 5 -j ACCEPT"),
    ),
    Case(
        "limit-burst",
        {"limit": "3/second", "limit_burst": "10", **A},
        both("-m limit --limit 3/sec --limit-burst 10 -j ACCEPT"),
    ),
    Case(
        "limit-burst-alone",
        {"limit_burst": 20, **A},
        both("-m limit --limit 3/hour --limit-burst 20 -j ACCEPT"),
        native=both("-m limit --limit-burst 20 -j ACCEPT"),
    ),
    # ------------------------------------------------------------ owner
    Case(
        "uid-owner",
        {"uid_owner": 0, **A},
        both("-m owner --uid-owner 0 -j ACCEPT"),
        chain="OUTPUT",
    ),
    Case(
        "gid-owner-negated",
        {"gid_owner": "!1000", "jump": "DROP"},
        both("-m owner ! --gid-owner 1000 -j DROP"),
        chain="OUTPUT",
    ),
    Case(
        "uid-and-gid-owner",
        {"uid_owner": 33, "gid_owner": 33, "jump": "DROP"},
        both("-m owner --uid-owner 33 --gid-owner 33 -j DROP"),
        chain="OUTPUT",
    ),
    # ------------------------------------------------------------ tcp flags
    Case(
        "syn-match",
        {"protocol": "tcp", "syn": "match", **A},
        both("-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT"),
        native=both("-p tcp --syn -j ACCEPT"),
    ),
    Case(
        "syn-negate",
        {"protocol": "tcp", "syn": "negate", "ctstate": ["NEW"], "jump": "DROP"},
        both("-p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP"),
        native=both("-p tcp ! --syn -m conntrack --ctstate NEW -j DROP"),
    ),
    Case(
        "syn-with-port",
        {"protocol": "tcp", "destination_port": 22, "syn": "match", **A},
        both("-p tcp -m tcp --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT"),
        native=both("-p tcp --syn --dport 22 -j ACCEPT"),
    ),
    Case("syn-ignore", {"protocol": "tcp", "syn": "ignore", **A}, both("-p tcp -j ACCEPT")),
    Case(
        "tcp-flags-all",
        {"protocol": "tcp", "tcp_flags": {"flags": ["ALL"], "flags_set": ["ACK", "SYN"]}, **A},
        both("-p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG SYN,ACK -j ACCEPT"),
        native=both("-p tcp --tcp-flags ALL SYN,ACK -j ACCEPT"),
    ),
    Case(
        "tcp-flags-none-set",
        {"protocol": "tcp", "tcp_flags": {"flags": ["SYN", "FIN"], "flags_set": []}, **A},
        both("-p tcp -m tcp --tcp-flags FIN,SYN NONE -j ACCEPT"),
        native=both("-p tcp --tcp-flags SYN,FIN NONE -j ACCEPT"),
    ),
    # ------------------------------------------------------------ fragment
    Case("fragment-ipv4-only", {"fragment": True, "jump": "DROP"}, v4("-f -j DROP")),
    Case(
        "fragment-with-protocol",
        {"protocol": "udp", "fragment": "yes", "source": "192.0.2.0/24", "jump": "DROP"},
        v4("-s 192.0.2.0/24 -p udp -f -j DROP"),
    ),
    Case("fragment-false", {"fragment": False, "jump": "DROP"}, both("-j DROP")),
    # ------------------------------------------------------------ comment and name
    Case(
        "name",
        {"name": "ssh", "protocol": "tcp", "destination_port": 22, **A},
        both("-p tcp -m tcp --dport 22 -m comment --comment hostfw:ssh -j ACCEPT"),
    ),
    Case(
        "name-and-comment",
        {"name": "web.https", "comment": "public web", **A},
        both('-m comment --comment "hostfw:web.https public web" -j ACCEPT'),
    ),
    Case(
        "comment-plain",
        {"comment": "kept by hand", **A},
        both('-m comment --comment "kept by hand" -j ACCEPT'),
    ),
    Case(
        "comment-quotes",
        {"comment": 'it\'s "quoted"', **A},
        both('-m comment --comment "it\\\'s \\"quoted\\"" -j ACCEPT'),
    ),
    Case(
        "comment-after-matches",
        {"name": "lim", "limit": "1/sec", "ctstate": ["NEW"], **A},
        both(
            "-m conntrack --ctstate NEW -m limit --limit 1/sec "
            "-m comment --comment hostfw:lim -j ACCEPT"
        ),
    ),
    # ------------------------------------------------------------ jump / goto
    Case("jump-return", {"jump": "RETURN"}, both("-j RETURN")),
    Case(
        "jump-user-chain",
        {"protocol": "tcp", "jump": "HOSTFW-WEB"},
        both("-p tcp -j HOSTFW-WEB"),
        chains=("HOSTFW-WEB",),
    ),
    Case("goto-user-chain", {"goto": "HOSTFW-WEB"}, both("-g HOSTFW-WEB"), chains=("HOSTFW-WEB",)),
    # ------------------------------------------------------------ reject
    Case(
        "reject-default",
        {"jump": "REJECT"},
        {
            "ipv4": "-j REJECT --reject-with icmp-port-unreachable",
            "ipv6": "-j REJECT --reject-with icmp6-port-unreachable",
        },
        native=both("-j REJECT"),
    ),
    Case(
        "reject-with-per-family",
        {"jump": "REJECT", "reject_with": "icmp-host-prohibited"},
        {
            "ipv4": "-j REJECT --reject-with icmp-host-prohibited",
            "ipv6": "-j REJECT --reject-with icmp6-adm-prohibited",
        },
    ),
    Case(
        "reject-with-implies-jump",
        {"reject_with": "icmp-admin-prohibited"},
        {
            "ipv4": "-j REJECT --reject-with icmp-admin-prohibited",
            "ipv6": "-j REJECT --reject-with icmp6-adm-prohibited",
        },
    ),
    Case(
        "reject-alias",
        {"jump": "REJECT", "reject_with": "host-unreach"},
        {
            "ipv4": "-j REJECT --reject-with icmp-host-unreachable",
            "ipv6": "-j REJECT --reject-with icmp6-addr-unreachable",
        },
        native={"ipv4": "-j REJECT --reject-with host-unreach"},
    ),
    Case(
        "reject-tcp-reset",
        {"protocol": "tcp", "reject_with": "tcp-reset"},
        both("-p tcp -j REJECT --reject-with tcp-reset"),
    ),
    Case(
        "reject-ipv4-only-type",
        {"jump": "REJECT", "reject_with": "icmp-proto-unreachable"},
        v4("-j REJECT --reject-with icmp-proto-unreachable"),
    ),
    Case(
        "reject-ipv6-only-type",
        {"jump": "REJECT", "reject_with": "icmp6-policy-fail"},
        v6("-j REJECT --reject-with icmp6-policy-fail"),
    ),
    # ------------------------------------------------------------ log
    Case(
        "log-prefix-level-warning-omitted",
        {"jump": "LOG", "log_prefix": "drop: ", "log_level": "warning"},
        both('-j LOG --log-prefix "drop: "'),
        native=both('-j LOG --log-prefix "drop: " --log-level warning'),
    ),
    Case(
        "log-level-name",
        {"jump": "LOG", "log_level": "info"},
        both("-j LOG --log-level 6"),
        native=both("-j LOG --log-level info"),
    ),
    Case("log-level-number", {"jump": "LOG", "log_level": 7}, both("-j LOG --log-level 7")),
    Case("log-level-4-number", {"jump": "LOG", "log_level": 4}, both("-j LOG")),
    # ------------------------------------------------------------ ip_version
    Case("ip-version-ipv6", {"ip_version": "ipv6", **A}, v6("-j ACCEPT")),
    Case("ip-version-ipv4", {"ip_version": "ipv4", "protocol": "tcp"}, v4("-p tcp")),
    Case(
        "ip-version-inferred-from-destination",
        {"destination": "198.51.100.0/24", **A},
        v4("-d 198.51.100.0/24 -j ACCEPT"),
    ),
    Case(
        "ip-version-inferred-from-src-range",
        {"src_range": "2001:db8::1-2001:db8::ff", **A},
        v6("-m iprange --src-range 2001:db8::1-2001:db8::ff -j ACCEPT"),
    ),
    Case(
        "task-family-ipv4-only",
        {"protocol": "icmp", **A},
        v4("-p icmp -j ACCEPT"),
        families=("ipv4",),
    ),
    Case(
        "task-family-ipv4-skips-ipv6-rule",
        {"source": "2001:db8::1", **A},
        {},
        families=("ipv4",),
    ),
    # ------------------------------------------------------------ migration and raw
    Case(
        "match-key-from-builtin-iptables",
        {
            "match": ["tcp", "conntrack"],
            "protocol": "tcp",
            "destination_port": "80",
            "ctstate": ["NEW"],
            **A,
        },
        both("-p tcp -m tcp --dport 80 -m conntrack --ctstate NEW -j ACCEPT"),
    ),
    Case(
        "raw-rule",
        {"raw": "-m mark --mark 0x4000/0x4000 -j DROP"},
        both("-m mark --mark 0x4000/0x4000 -j DROP"),
        raw=True,
    ),
    Case(
        "raw-rule-protocol-number",
        {"raw": "-p 6 -m addrtype --dst-type LOCAL -j ACCEPT", "ip_version": "ipv4"},
        v4("-p tcp -m addrtype --dst-type LOCAL -j ACCEPT"),
        raw=True,
    ),
]

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "case ids must be unique"
