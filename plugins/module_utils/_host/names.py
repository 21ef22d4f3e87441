# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service names in ports and user/group names in owner matches, resolved on the
managed host as iptables itself resolves them (getservbyname with the rule's
protocol, getpwnam, getgrnam). The kernel only ever holds numbers, so the rule is
compared and stored with the numbers; a name the host does not know is an error
naming the key. Reads the host's name databases; runs no command."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import pwd
import re
import socket

from ansible_collections.hostfw.netfilter.plugins.module_utils._rules.errors import RuleError

PORT_KEYS = ("source_port", "destination_port", "destination_ports")
OWNER_KEYS = {"uid_owner": ("user", pwd.getpwnam), "gid_owner": ("group", grp.getgrnam)}
_DIGITS = re.compile(r"^[0-9]*$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.+-]*$")


def _neg(value):
    text = value.strip()
    if text.startswith("!"):
        return "!", text[1:].strip()
    return "", text


def _service(key, word, proto):
    if _DIGITS.match(word) or not _NAME.match(word):
        return word  # a number (or an empty range end), or left to the value check
    if proto is None:
        raise RuleError("key '%s': the service name %r needs protocol (tcp, udp...)" % (key, word))
    try:
        return str(socket.getservbyname(word, proto))
    except OSError:
        raise RuleError(
            "key '%s': the service name %r is not known for %s on this host "
            "(/etc/services); give the port number" % (key, word, proto)
        ) from None


def _port(key, value, proto):
    if not isinstance(value, str):
        return value
    neg, text = _neg(value)
    if _DIGITS.match(text.replace(":", "").replace("-", "")):
        return value
    if _NAME.match(text) and ":" not in text:
        try:  # a whole word first: service names may hold '-'
            return neg + _service(key, text, proto)
        except RuleError:
            if "-" not in text:
                raise
    sep = ":" if ":" in text else "-"
    lo, _sep, hi = text.partition(sep)
    return neg + ":".join((_service(key, lo.strip(), proto), _service(key, hi.strip(), proto)))


def _owner(key, value):
    if isinstance(value, int) or not isinstance(value, str):
        return value
    neg, text = _neg(value)
    if _DIGITS.match(text) or not _NAME.match(text):
        return value
    what, lookup = OWNER_KEYS[key]
    try:
        return neg + str(lookup(text)[2])
    except KeyError:
        raise RuleError(
            "key '%s': the %s %r does not exist on this host; give its number" % (key, what, text)
        ) from None


def resolve(data):
    """`data` (a rule mapping or the rule module's parameters) with its service
    and owner names replaced by numbers; a RuleError names the table, chain and key."""
    try:
        return _resolve(data)
    except RuleError as e:
        where = "table %s, chain %s: " % (data.get("table"), data.get("chain"))
        raise RuleError(where + str(e)) from None


def _resolve(data):
    out = dict(data)
    proto = data.get("protocol")
    proto = proto.strip().lower() if isinstance(proto, str) and "!" not in proto else None
    for key in PORT_KEYS:
        value = out.get(key)
        if key == "destination_ports" and isinstance(value, str) and "," in value:
            value = [x.strip() for x in value.split(",")]
        if isinstance(value, (list, tuple)):
            out[key] = [_port(key, v, proto) for v in value]
        elif value is not None:
            out[key] = _port(key, value, proto)
    for key in OWNER_KEYS:
        if out.get(key) is not None:
            out[key] = _owner(key, out[key])
    return out
