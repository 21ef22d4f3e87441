"""Task wall times (and the module's own `timings`) as JSON lines, for tests/perf/bench.py.

Writes to the file named by ``$HFW_TIMER_FILE``; enabled with ``callbacks_enabled = hfw_timer``.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: hfw_timer
type: notification
short_description: Task durations as JSON lines for the hostfw.netfilter benchmark
description:
  - Appends one JSON object per task result, with its wall time, to E(HFW_TIMER_FILE).
requirements:
  - enable it with O(callbacks_enabled=hfw_timer)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "hfw_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display)
        self._path = os.environ.get("HFW_TIMER_FILE")
        self._start = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start = time.perf_counter()

    def _record(self, result, failed):
        if not self._path:
            return
        r = result._result
        data = {
            "task": result._task.get_name(),
            "seconds": time.perf_counter() - self._start,
            "changed": bool(r.get("changed")),
            "failed": failed,
            "timings": r.get("timings"),
            "msg": r.get("msg") if failed else None,
        }
        with open(self._path, "a", encoding="utf-8") as out:
            out.write(json.dumps(data) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, True)
