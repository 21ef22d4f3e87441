# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Families and rule names: which IP versions a task manages, and how a rule's
name travels in its kernel comment. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

FAMILIES = ("ipv4", "ipv6")
# the family of an ipset that holds no addresses of one family (list:set, hash:mac)
ANY_FAMILY = "any"


IP_VERSIONS = ("ipv4", "ipv6", "both")


# Comment prefix that marks a rule as ours and carries its name.
NAME_PREFIX = "hostfw:"


NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+=/#-]*$")


def families_of(ip_version):
    return FAMILIES if ip_version == "both" else (ip_version,)


def comment_text(name, comment):
    if name is None:
        return comment
    if comment:
        return "%s%s %s" % (NAME_PREFIX, name, comment)
    return NAME_PREFIX + name


def split_comment(text):
    """-> (name, user comment) of a kernel comment."""
    if text is not None and text.startswith(NAME_PREFIX):
        rest = text[len(NAME_PREFIX) :]
        name, _sep, comment = rest.partition(" ")
        if name and NAME_RE.match(name):
            return name, (comment or None)
    return None, text
