# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluation of packets against planned tables (the connection guard). Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
