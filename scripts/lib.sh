# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; it sets strict mode and cds to the repo root.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
VENV="${VENV:-$REPO_ROOT/.venv}"

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Seconds since the epoch with sub-second precision; `elapsed START` prints the delta.
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }

require_root() { [[ $EUID -eq 0 ]] || die "must run as root"; }
