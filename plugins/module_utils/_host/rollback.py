# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollback with confirm: a change recorded before it is applied, and undone
after a timeout unless it is confirmed.

The state directory (0700; files 0600, each written to a temporary name and
renamed) holds one record per pending change, ``pending/SEQ-ID/``: the undo of
each family as iptables-restore input (_plan/revert.py), the restore tool of the
variant in use, and the deadline. Arming starts a timer that outlives the task,
the module process and the SSH connection: a detached, double-forked ``sh`` in a
session of its own running ``revert.sh``. When it fires it takes the lock and
undoes every pending change of the host, newest first; each record's families
are first tested (``--test``) and only then applied, so a refused undo applies
nothing of itself, stops there, and stays (under ``failed/``) for a manual
``confirm`` or retry; a family whose undo the kernel refuses although its test
passed (nf_tables does not test a chain deletion) puts back the families
already undone, from their saves taken just before. What it did goes to syslog (``logger -t
hostfw-netfilter``) and to ``log`` in the state directory. ``confirm`` moves
records to ``confirmed/`` and stops their timers.

Reads and writes only under the state directory and starts the one timer
process; runs no iptables command itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os
import signal
import time
import uuid

STATE_ENV = "HOSTFW_NETFILTER_STATE_DIR"
DEFAULT_STATE_DIR = "/var/lib/hostfw-netfilter"
FAMILIES = ("ipv4", "ipv6")

RUNNER = r"""#!/bin/sh
# hostfw.netfilter rollback timer: sleep, then undo every pending change of this
# host, newest first (written by hostfw.netfilter; see _host/rollback.py).
umask 077
dir=$1; rec=$2; delay=$3
echo $$ > "$dir/pending/$rec/timer.pid"
sleep "$delay"
log() {
  logger -t hostfw-netfilter "$*" 2>/dev/null
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >> "$dir/log"
}
keep() {  # keep() DIR WHY: the record goes to failed/ for confirm or a retry
  mkdir -p "$dir/failed"; mv "$1" "$dir/failed/${1##*/}"
  log "rollback ${1##*/}: $2; kept in $dir/failed/${1##*/} (see error there);" \
    "older pending changes were left as they are"
}
exec 9>>"$dir/lock"
flock 9
[ -d "$dir/pending/$rec" ] || exit 0
for r in $(ls -1 "$dir/pending" | sort -r); do
  p="$dir/pending/$r"
  ok=1
  for fam in ipv4 ipv6; do
    [ -s "$p/$fam.restore" ] || continue
    "$(cat "$p/$fam.tool")" -w --test --noflush < "$p/$fam.restore" 2>> "$p/error" || ok=0
  done
  if [ "$ok" = 0 ]; then keep "$p" "the kernel refused the undo, nothing of it was applied"; exit 1; fi
  done_fams=""
  for fam in ipv4 ipv6; do
    [ -s "$p/$fam.restore" ] || continue
    # what this family holds now, to put back should a later family refuse its undo
    tables=$(sed -n 's/^\*//p' "$p/$fam.restore" | sort -u)
    : > "$p/$fam.now"
    for t in $tables; do "$(cat "$p/$fam.savetool")" -t "$t" >> "$p/$fam.now" 2>> "$p/error"; done
    if "$(cat "$p/$fam.tool")" -w --noflush < "$p/$fam.restore" 2>> "$p/error"; then
      done_fams="$done_fams $fam"
    else
      for f in $done_fams; do "$(cat "$p/$f.tool")" -w < "$p/$f.now" 2>> "$p/error"; done
      keep "$p" "the kernel refused the $fam undo; the families already undone ($done_fams ) were put back, so nothing of it stays applied"
      exit 1
    fi
  done
  mkdir -p "$dir/reverted"; mv "$p" "$dir/reverted/$r"
  log "rollback $r: reverted"
done
"""


def state_dir():
    return os.path.join(os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR, "rollback")


def _write(path, data, mode=0o600):
    tmp = "%s.tmp%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)


def _lock(base):
    fd = os.open(os.path.join(base, "lock"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _prepare(base):
    for sub in ("", "pending"):
        path = os.path.join(base, sub)
        if not os.path.isdir(path):
            os.makedirs(path, 0o700)
        os.chmod(path, 0o700)
    _write(os.path.join(base, "revert.sh"), RUNNER, 0o700)


def _next_seq(base):
    path = os.path.join(base, "seq")
    try:
        with open(path) as f:
            seq = int(f.read().strip() or 0) + 1
    except (OSError, ValueError):
        seq = 1
    _write(path, "%d\n" % seq)
    return seq


def _spawn(argv):
    """Start argv detached: double fork, a session of its own, no terminal,
    stdio on /dev/null; returns when the intermediate child is gone."""
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)
        return
    try:
        os.setsid()
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        if os.fork():
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, 256)
        os.execv(argv[0], argv)
    finally:
        os._exit(127)


def record(undo, tools, timeout):
    """Record the undo ({family: restore text}) and arm its timer.
    -> {'id', 'record', 'deadline' (epoch), 'deadline_utc'}."""
    base = state_dir()
    _prepare(base)
    fd = _lock(base)
    try:
        rid = uuid.uuid4().hex[:12]
        name = "%06d-%s" % (_next_seq(base), rid)
        path = os.path.join(base, "pending", name)
        os.mkdir(path, 0o700)
        deadline = time.time() + timeout
        _write_undo(path, undo, tools)
        meta = dict(id=rid, record=name, deadline=deadline, timeout=timeout)
        _write(os.path.join(path, "meta.json"), json.dumps(meta, sort_keys=True))
    finally:
        os.close(fd)
    _spawn(["/bin/sh", os.path.join(base, "revert.sh"), base, name, str(timeout)])
    meta["deadline_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline))
    return meta


def _write_undo(path, undo, tools):
    """tools: {family: (restore tool, save tool)} of the variant in use."""
    for fam in FAMILIES:
        text = undo.get(fam) or ""
        _write(os.path.join(path, fam + ".restore"), text)
        if text:
            _write(os.path.join(path, fam + ".tool"), tools[fam][0])
            _write(os.path.join(path, fam + ".savetool"), tools[fam][1])


def update(meta, undo, tools):
    """Replace a pending record's undo (after the change was planned again over
    another writer's rules). A record already fired or confirmed stays as it is."""
    base = state_dir()
    fd = _lock(base)
    try:
        path = os.path.join(base, "pending", meta["record"])
        if os.path.isdir(path):
            _write_undo(path, undo, tools)
    finally:
        os.close(fd)


def _records(base, sub):
    path = os.path.join(base, sub)
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def _stop_timer(path, name):
    try:
        with open(os.path.join(path, "timer.pid")) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if name.encode() not in f.read():
                return  # not our timer (it has gone; the pid was reused)
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        pass


def confirm(ids=None):
    """Cancel the reverts of the pending records with these ids (all of them
    when None), and clear failed ones. -> (confirmed ids, unknown ids)."""
    base = state_dir()
    if not os.path.isdir(base):
        return [], list(ids or ())
    fd = _lock(base)
    try:
        done = []
        wanted = set(ids) if ids else None
        for sub in ("pending", "failed"):
            for name in _records(base, sub):
                rid = name.split("-", 1)[1]
                if wanted is not None and rid not in wanted:
                    continue
                path = os.path.join(base, sub, name)
                _stop_timer(path, name)
                dest = os.path.join(base, "confirmed")
                if not os.path.isdir(dest):
                    os.makedirs(dest, 0o700)
                os.rename(path, os.path.join(dest, name))
                done.append(rid)
    finally:
        os.close(fd)
    unknown = sorted((wanted or set()) - set(done))
    return done, unknown


def pending():
    """The ids of the pending and failed records: [(id, 'pending' | 'failed')]."""
    base = state_dir()
    return [
        (name.split("-", 1)[1], sub)
        for sub in ("pending", "failed")
        for name in _records(base, sub)
    ]
