#!/usr/bin/env bash
# make molecule: every collection-level Molecule scenario (extensions/molecule/*), or
# those named in SCENARIOS="smoke ...". Needs the lab images (make lab-images) and the
# collection link (make collection-link), which the Makefile target provides.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
start=$(now)
export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$REPO_ROOT/build/collections}"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1 PY_COLORS=0
[[ -e $ANSIBLE_COLLECTIONS_PATH/ansible_collections/hostfw/netfilter/galaxy.yml ]] ||
  die "the collection is not linked under $ANSIBLE_COLLECTIONS_PATH: run make collection-link"

mapfile -t all < <(find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml \
  -printf '%h\n' | xargs -rn1 basename | sort)
((${#all[@]})) || die "no scenarios under extensions/molecule"
read -r -a scenarios <<<"${SCENARIOS:-${all[*]}}"

failed=()
for s in "${scenarios[@]}"; do
  t0=$(now)
  log "scenario $s"
  if molecule test -s "$s"; then
    log "scenario $s passed in $(elapsed "$t0")"
  else
    log "scenario $s FAILED after $(elapsed "$t0")"
    failed+=("$s")
  fi
done
((${#failed[@]} == 0)) || die "failed scenarios: ${failed[*]}"
log "${#scenarios[@]} scenario(s) passed in $(elapsed "$start")"
