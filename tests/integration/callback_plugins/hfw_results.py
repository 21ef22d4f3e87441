"""Record every task result as one JSON line, for the integration test fixtures.

Enabled by ``tests/integration/_netns.py`` through ``callbacks_enabled = hfw_results``;
writes to the file named by ``$HFW_RESULTS_FILE`` (does nothing without it). Unlike the
screen callbacks it keeps ``diff``, ``warnings`` and ``invocation``.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: hfw_results
type: notification
short_description: Task results as JSON lines for the hostfw.netfilter integration tests
description:
  - Appends one JSON object per task result to the file named by E(HFW_RESULTS_FILE).
requirements:
  - enable it with O(callbacks_enabled=hfw_results)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "hfw_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display)
        self._path = os.environ.get("HFW_RESULTS_FILE")

    def _record(self, result, **status):
        if not self._path:
            return
        data = {k: v for k, v in result._result.items() if not k.startswith("_ansible_")}
        data.update(status)
        data["_task"] = result._task.get_name()
        data["_action"] = result._task.action
        data["_host"] = result._host.get_name()
        with open(self._path, "a", encoding="utf-8") as out:
            out.write(json.dumps(data, default=str, sort_keys=True) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, failed=False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True, ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True, failed=True)
