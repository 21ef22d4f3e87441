#!/usr/bin/env bash
# make sanity: `ansible-test sanity` on a copy of the collection.
#
# ansible-test wants the collection under .../ansible_collections/hostfw/netfilter and
# dislikes symlinks, so the tracked and untracked-but-not-ignored files are copied to
# build/sanity/ansible_collections/hostfw/netfilter. That copy gets a `git init` of its
# own (nothing added or committed): ansible-test walks up to the nearest .git to list
# files, and would otherwise find this repository, where build/ is ignored.
#
# Mode: --venv. Each test gets its own virtual environment with ansible-test's pinned
# requirements (pylint, voluptuous, ...), cached under ~/.ansible/test/venv, so the
# project's .venv stays as constraints.txt says. Those environments need pip, which
# ansible-test bootstraps with a get-pip script downloaded from a host this machine
# cannot reach; it looks first in ~/.ansible/test/cache/get_pip_<version>.py, so we
# put a small one there that installs pip from the wheel of that version (from PyPI).
#
# SANITY_ARGS adds options, e.g. SANITY_ARGS="--test pylint" or "--python 3.12".
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
start=$(now)
PY="$VENV/bin/python"
[[ -x $VENV/bin/ansible-test ]] || die "no ansible-test in $VENV: run make setup"

# --- pip bootstrap for ansible-test's virtual environments ----------------------
pip_version=$("$PY" - <<'PY'
"""The pip version ansible-test bootstraps (get_venv_packages' default)."""
import inspect
import re

from ansible_test._internal import python_requirements

source = inspect.getsource(python_requirements.get_venv_packages)
print(re.search(r"pip\s*=\s*['\"]([^'\"]+)['\"]", source).group(1))
PY
)
cache=$HOME/.ansible/test/cache
get_pip=$cache/get_pip_${pip_version//./_}.py
marker="# hostfw.netfilter offline get-pip for pip $pip_version"
if ! head -n1 "$get_pip" 2>/dev/null | grep -qxF "$marker"; then
  mkdir -p "$cache"
  if ! compgen -G "$cache/pip-$pip_version-*.whl" >/dev/null; then
    log "fetching the pip $pip_version wheel"
    "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --dest "$cache" "pip==$pip_version"
  fi
  cat >"$get_pip.tmp" <<PY
$marker (written by scripts/sanity.sh).
# Stands in for get-pip.py: installs pip from the wheel beside this file, no network.
import glob
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
wheel = sorted(glob.glob(os.path.join(here, "pip-$pip_version-*.whl")))[-1]
sys.path.insert(0, wheel)
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-index", "--find-links", here] + args))
PY
  mv "$get_pip.tmp" "$get_pip"
fi

# --- the collection copy ----------------------------------------------------------
dest=build/sanity/ansible_collections/hostfw/netfilter
rm -rf build/sanity
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [[ -f $f || -L $f ]] && printf '%s\0' "$f"; done |
  tar --null -T - -c | tar -C "$dest" -x
git -C "$dest" init -q
# Empty ignore files are fine; a non-empty one must carry a reason per line (conventions).
for f in tests/sanity/ignore-*.txt; do
  [[ -e $f && ! -s $f ]] && rm -f "$dest/$f"
done

log "ansible-test sanity (pip $pip_version bootstrap: $get_pip)"
cd "$dest"
# shellcheck disable=SC2086  # SANITY_ARGS is split on purpose
"$VENV/bin/ansible-test" sanity --venv --python 3.11 --color no ${SANITY_ARGS:-}
log "passed in $(elapsed "$start")"
