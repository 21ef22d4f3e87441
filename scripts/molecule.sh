#!/usr/bin/env bash
# make molecule: every collection-level Molecule scenario (extensions/molecule/*), or
# those named in SCENARIOS="smoke ...". Needs the lab images (make lab-images) and the
# collection link (make collection-link), which the Makefile target provides.
#
# Each scenario's test sequence (see its molecule.yml) runs converge, idempotence, a
# check-mode run that must report no change (shared/check_mode.yml), verify with real
# packets, and a mutation test (shared/mutants.yml): verify is run again on hosts whose
# rules were deliberately altered, and must fail every time. A scenario passes only if
# every action succeeded (a "missing" playbook is a failure too); the mutants killed
# are counted and reported.
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

logdir=$REPO_ROOT/build/molecule
mkdir -p "$logdir"
failed=() summary=() killed_total=0
for s in "${scenarios[@]}"; do
  t0=$(now)
  log "scenario $s (log: build/molecule/$s.log)"
  out=$logdir/$s.log
  rc=0
  molecule test -s "$s" 2>&1 | tee "$out" || rc=$?
  # "Missing playbook" actions do not fail molecule; they fail here.
  recap=$(grep -E "^$s +: actions=" "$out" | tail -n 1 || true)
  if ((rc == 0)) && [[ -n $recap ]] && ! grep -qE 'missing=[1-9]|failed=[1-9]' <<<"$recap"; then
    result=passed
  else
    result=FAILED
    failed+=("$s")
  fi
  killed=$(grep -c '"msg": "mutant killed: ' "$out" || true)
  survived=$(grep -c '^ *"mutant survived: ' "$out" || true)
  killed_total=$((killed_total + killed))
  line=$(printf '%-12s %-6s %7s  mutants killed: %s, survived: %s' "$s" "$result" "$(elapsed "$t0")" "$killed" "$survived")
  summary+=("$line")
  log "scenario $s $result in $(elapsed "$t0") (mutants killed: $killed, survived: $survived)"
done
log "summary:"
for line in "${summary[@]}"; do log "  $line"; done
((${#failed[@]} == 0)) || die "failed scenarios: ${failed[*]}"
log "${#scenarios[@]} scenario(s) passed in $(elapsed "$start"); $killed_total mutant(s) killed"
