# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every backend shares: its errors, the variant of the host, the tools."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


_BASE = {"ipv4": "iptables", "ipv6": "ip6tables"}


class BackendError(Exception):
    pass


def detect_variant(run, which):
    """'nf_tables' or 'legacy', from what `iptables -V` says."""
    path = which("iptables")
    if path is None:
        raise BackendError("iptables is not installed on this host")
    rc, out, err = run([path, "-V"])
    text = (out or "") + (err or "")
    if rc != 0:
        raise BackendError("`iptables -V` failed: %s" % text.strip())
    if "nf_tables" in text:
        return "nf_tables"
    return "legacy"


def tool(which, family, variant, suffix):
    """The variant's own binary (iptables-nft-save...) or the plain name."""
    base = _BASE[family]
    short = "nft" if variant == "nf_tables" else "legacy"
    for name in ("%s-%s-%s" % (base, short, suffix), "%s-%s" % (base, suffix)):
        path = which(name)
        if path:
            return path
    raise BackendError("%s-%s is not installed on this host" % (base, suffix))
