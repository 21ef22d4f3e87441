# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Words of iptables-save / iptables-restore text: split a saved line, quote a word.
Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Words are separated by ASCII blanks only, as iptables-restore separates them:
# str.split() and \s would also split on U+2028, U+0085, U+00A0..., which a
# comment or a foreign chain name may hold.
_TOKEN_RE = re.compile(r'"((?:[^"\\]|\\.)*)"|([^ \t]+)', re.DOTALL)


_BLANKS_RE = re.compile(r"[ \t]+")


_UNESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


_SAFE_RE = re.compile(r"[A-Za-z0-9_.:/,+=@%!-]+")


def _quoted(word):
    return '"' + re.sub(r'(["\\\'])', r"\\\1", word) + '"'


def quote(word):
    """Quote a word for restore text when it needs it."""
    if word and _SAFE_RE.fullmatch(word):
        return word
    return _quoted(word)


_SAVE_PLAIN_RE = re.compile(r"[A-Za-z0-9_-]+")


_STRING_OPTIONS = frozenset(("--comment", "--log-prefix"))


def render_tokens(tokens):
    """Restore text of a rule; strings are quoted as iptables-save quotes them
    (anything beyond letters, digits, '_' and '-'), so diffs read like save output."""
    out = []
    prev = None
    for t in tokens:
        if prev in _STRING_OPTIONS and not _SAVE_PLAIN_RE.fullmatch(t):
            out.append(_quoted(t))
        else:
            out.append(quote(t))
        prev = t
    return " ".join(out)


def split_blanks(text):
    """Words of `text` separated by ASCII spaces and tabs (nothing else)."""
    if "\t" not in text and "  " not in text:
        words = text.split(" ")
        if words and not words[0]:
            del words[0]
        if words and not words[-1]:
            del words[-1]
        return words
    return [w for w in _BLANKS_RE.split(text) if w]


def tokenize(line):
    """Split one saved rule line into words, undoing iptables-save's quoting.
    Words are separated by ASCII spaces and tabs only."""
    if '"' not in line:  # nothing quoted: plain words (most saved rules)
        return split_blanks(line)
    if "\\" not in line:  # quoted, but nothing escaped
        return [quoted or bare for quoted, bare in _TOKEN_RE.findall(line)]
    out = []
    for quoted, bare in _TOKEN_RE.findall(line):
        if bare:
            out.append(bare)
        else:
            out.append(_UNESCAPE_RE.sub(r"\1", quoted))
    return out
