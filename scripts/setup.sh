#!/usr/bin/env bash
# make setup: Debian packages, podman configuration and the controller venv.
# Idempotent; a re-run with nothing to do takes well under a second.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
start=$(now)
summary=()

# --- Debian packages ---------------------------------------------------------
packages=(
  podman runc debootstrap iptables iproute2 nftables python3-venv python3-dev gcc
  netcat-openbsd socat uidmap slirp4netns fuse-overlayfs ipset
  shellcheck # used by `ansible-test sanity` (skipped with a warning without it)
)
missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  summary+=("apt: installed ${#missing[@]}")
else
  summary+=("apt: ok")
fi

# --- podman: runc and explicit rlimits (crun and podman's default rlimits fail here) ---
conf_state=$(python3 - "${CONTAINERS_CONF:-/etc/containers/containers.conf}" <<'PY'
"""Set two keys in containers.conf, keeping every other line as it is."""
import os
import re
import sys

path = sys.argv[1]
wanted = {
    "engine": ("runtime", '"runc"'),
    "containers": ("default_ulimits", '["nofile=1024:1024", "nproc=4096:4096"]'),
}
try:
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
except FileNotFoundError:
    lines = []
original = list(lines)
section_re = re.compile(r"^\s*\[\s*([^\]\s]+)\s*\]\s*(#.*)?$")

for section, (key, value) in wanted.items():
    key_re = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    start = next((i for i, line in enumerate(lines)
                  if (m := section_re.match(line)) and m.group(1) == section), None)
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{section}]", f"{key} = {value}"]
        continue
    end = next((i for i in range(start + 1, len(lines)) if section_re.match(lines[i])),
               len(lines))
    # Drop every existing assignment of the key (a multi-line array included),
    # then write ours right after the section header.
    i = start + 1
    while i < end:
        if not key_re.match(lines[i]):
            i += 1
            continue
        depth = 0
        while True:
            text = lines[i].split("#", 1)[0]
            depth += text.count("[") - text.count("]")
            del lines[i]
            end -= 1
            if depth <= 0 or i >= end:
                break
    lines.insert(start + 1, f"{key} = {value}")

if lines == original:
    print("ok")
else:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    print("updated")
PY
)
summary+=("containers.conf: $conf_state")

# --- controller venv -----------------------------------------------------------
stamp="$VENV/.hostfw-requirements.sha256"
want=$(cat requirements-dev.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [[ ! -x $VENV/bin/python ]]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  log "pip install -r requirements-dev.txt -c constraints.txt"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -r requirements-dev.txt -c constraints.txt
  echo "$want" >"$stamp"
  summary+=("venv: installed")
else
  summary+=("venv: ok")
fi

line=$(printf '%s; ' "${summary[@]}")
log "done in $(elapsed "$start"): ${line%; }"
