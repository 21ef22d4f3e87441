# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning: config validation, the states, placement, typed operations. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
