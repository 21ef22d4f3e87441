# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule vocabulary: keys, values and naming, with no iptables words. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
