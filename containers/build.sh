#!/usr/bin/env bash
# Build the extractor images (and, with `service`, the service image) with podman from a
# Debian base made here by debootstrap: no image registry is needed, only Debian's
# packages and the package index. Run from anywhere, as root (debootstrap needs it):
#
#   containers/build.sh                  # every family `xtract extractors --families` lists
#   containers/build.sh jsonxml code     # those families
#   containers/build.sh service          # the service image deploy/ runs (localhost/xtract)
#   XTRACT_REBUILD_BASE=1 containers/build.sh jsonxml   # the base made again first
#
# Images: localhost/xtract-debian:bookworm (the base: Debian's minbase with python3,
# venv, ca-certificates and libmagic), localhost/xtract-<family> and localhost/xtract.
# The builds trust the certificate authorities of the host building them (mounted
# read-only for the build's pip, never copied into an image): a site's TLS proxy works.
# Storage `vfs`, cgroupfs and runc (when installed) are used because they work
# everywhere podman does, containers inside containers included; set XTRACT_PODMAN to
# run another podman command line (say `podman` alone, on a workstation).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=localhost/xtract-debian:bookworm
SUITE=${XTRACT_DEBIAN_SUITE:-bookworm}
MIRROR=${XTRACT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CA=${XTRACT_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
if [ -z "${XTRACT_PODMAN:-}" ]; then
    XTRACT_PODMAN="podman --storage-driver vfs --cgroup-manager cgroupfs"
    command -v runc >/dev/null && XTRACT_PODMAN="$XTRACT_PODMAN --runtime runc"
fi
read -r -a PODMAN <<<"$XTRACT_PODMAN"

say() { echo "containers: $*" >&2; }
need() { command -v "$1" >/dev/null || { say "needs $1 ($2)"; exit 2; }; }
need podman "apt-get install podman"

make_base() {
    need debootstrap "apt-get install debootstrap"
    local root
    root=$(mktemp -d /tmp/xtract-rootfs.XXXXXX)
    chmod 755 "$root"  # the image's / (mktemp makes it 0700: no one but root could run)
    trap 'rm -rf "$root"' RETURN
    say "debootstrap $SUITE from $MIRROR"
    debootstrap --variant=minbase \
        --include=python3,python3-venv,ca-certificates,libmagic1 \
        "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 \
        || { tail -20 "$root.log" >&2; exit 1; }
    rm -f "$root.log"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | "${PODMAN[@]}" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' --message "debootstrap $SUITE minbase" - "$BASE" >/dev/null
    say "base $BASE made"
}

build() {  # build IMAGE DOCKERFILE [build args]
    local image=$1 file=$2
    shift 2
    say "building $image"
    local mounts=()
    [ -f "$CA" ] && mounts=(--volume "$CA:/etc/ssl/certs/ca-certificates.crt:ro")
    "${PODMAN[@]}" build --quiet --isolation chroot --network host "${mounts[@]}" \
        --build-arg "BASE=$BASE" "$@" -f "$file" -t "$image" . >/dev/null
}

if [ -n "${XTRACT_REBUILD_BASE:-}" ] || ! "${PODMAN[@]}" image exists "$BASE"; then
    make_base
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    XTRACT=${XTRACT:-$(command -v xtract || echo .venv/bin/xtract)}
    mapfile -t targets < <("$XTRACT" extractors --families | awk '{print $1}')
fi
for t in "${targets[@]}"; do
    if [ "$t" = service ]; then
        build localhost/xtract deploy/Dockerfile
    else
        build "localhost/xtract-$t" containers/Dockerfile --build-arg "FAMILY=$t"
    fi
done
say "built: ${targets[*]}"
