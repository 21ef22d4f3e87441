#!/usr/bin/env bash
# make lab-images: the Molecule/lab container images, built without a registry:
#   localhost/hostfw-lab:debian12 (bookworm) and localhost/hostfw-lab:debian13 (trixie)
# with debootstrap from the machine's Debian mirror, then `podman import`.
#
# An existing image is kept when its hostfw.lab.recipe label matches this recipe
# (suite, package list, scripts/lab/hostfw_probe.py); REBUILD=1 rebuilds regardless.
# IMAGES="debian12" limits the build to some tags; MIRROR=URL overrides the mirror.
#
# Packet tests inside the images use:
#   listen: socat TCP6-LISTEN:8080,fork,reuseaddr /dev/null &    (dual-stack, one port)
#           hostfw-probe --listen 8080 9090 &                    (several ports)
#   probe:  hostfw-probe 192.0.2.10 8080 --timeout 1
#           -> prints open/closed/timeout, exit code 0/1/2 (3 on other errors)
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root

declare -A SUITES=([debian12]=bookworm [debian13]=trixie)
INCLUDE=python3,iptables,python3-iptables,iproute2,netbase,socat,procps,sudo
REPO=localhost/hostfw-lab
WORK_PARENT=${WORK_PARENT:-/var/tmp}

# The Debian mirror apt already uses (deb822 or one-line format); deb.debian.org otherwise.
mirror() {
  local uri
  uri=$(
    {
      sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    } | tr ' ' '\n' | grep -E '^https?://.*/debian/?$' | head -n1
  ) || true
  echo "${uri:-http://deb.debian.org/debian}"
}

recipe_hash() { # SUITE
  { echo "$1 $INCLUDE"; cat scripts/lab/hostfw_probe.py; } | sha256sum | cut -c1-16
}

# Unmount anything left mounted below DIR (a failed debootstrap leaves proc/sys), then remove it.
remove_tree() {
  local dir=$1 mnt
  [[ -d $dir ]] || return 0
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mnt; do umount -l "$mnt" || true; done
  rm -rf --one-file-system "$dir"
}

build() { # TAG SUITE MIRROR HASH
  local tag=$1 suite=$2 mirror=$3 hash=$4 t0 work rootfs old
  t0=$(now)
  work=$(mktemp -d "$WORK_PARENT/hostfw-lab-$tag.XXXXXX")
  trap 'remove_tree "$work"' EXIT # build runs in a subshell (&)
  rootfs=$work/rootfs
  debootstrap --variant=minbase --include="$INCLUDE" "$suite" "$rootfs" "$mirror" \
    >"$work.log" 2>&1 || { tail -n 30 "$work.log" >&2; rm -f "$work.log"; return 1; }
  rm -f "$work.log"
  { echo '#!/usr/bin/python3'; cat scripts/lab/hostfw_probe.py; } >"$rootfs/usr/local/bin/hostfw-probe"
  chmod 0755 "$rootfs/usr/local/bin/hostfw-probe"
  # Smaller image: no downloaded .debs, no apt lists (run `apt-get update` before installing).
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  old=$(podman image inspect --format '{{.Id}}' "$REPO:$tag" 2>/dev/null || true)
  tar -C "$rootfs" -c . | podman import --quiet \
    --change 'CMD ["sleep", "infinity"]' \
    --change "LABEL hostfw.lab.recipe=$hash" \
    - "$REPO:$tag" >/dev/null
  # The image this one replaces, unless a container still uses it.
  [[ -z $old ]] || podman rmi "$old" >/dev/null 2>&1 || true
  log "built $REPO:$tag ($suite) in $(elapsed "$t0")"
}

start=$(now)
# One build at a time on this machine (make demo and make molecule may both ask for images).
exec 9>/run/lock/hostfw-lab-images.lock
flock 9
MIRROR=${MIRROR:-$(mirror)}
pids=() tags=()
for tag in ${IMAGES:-debian12 debian13}; do
  suite=${SUITES[$tag]:?unknown image tag $tag}
  hash=$(recipe_hash "$suite")
  have=$(podman image inspect --format '{{index .Labels "hostfw.lab.recipe"}}' "$REPO:$tag" \
    2>/dev/null || true)
  if [[ ${REBUILD:-0} != 1 && $have == "$hash" ]]; then
    log "$REPO:$tag is up to date"
    continue
  fi
  log "building $REPO:$tag from $suite ($MIRROR)"
  # Both builds in parallel: each is mostly download and dpkg, ~250 MB of disk.
  build "$tag" "$suite" "$MIRROR" "$hash" &
  pids+=($!) tags+=("$tag")
done

rc=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { log "FAILED: $REPO:${tags[$i]}"; rc=1; }
done
((rc == 0)) || exit "$rc"
log "done in $(elapsed "$start")"
