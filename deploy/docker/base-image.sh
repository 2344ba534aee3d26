#!/usr/bin/env bash
# Make the local base image of every Pujiang Gateway image: Debian bookworm (minbase, plus
# ca-certificates, python3 and python3-venv) from the Debian mirror with debootstrap, then
# `docker import`. No image registry is involved, so it works where none can be reached.
#
#   deploy/docker/base-image.sh            # skips the work when the tag already exists
#   deploy/docker/base-image.sh --force    # rebuild it
#
# Env: PJGW_BASE_IMAGE (tag, default pujiang-base:bookworm), DEBIAN_MIRROR (default: the
# bookworm mirror this machine's apt uses, else http://deb.debian.org/debian), DOCKER.
#
# The image trusts the building machine's local CAs (/usr/local/share/ca-certificates/*.crt,
# e.g. a TLS-intercepting proxy's), so pip and npm reach their registries from a build
# exactly as they do from this machine; on a machine without local CAs nothing is added.
set -euo pipefail

IMAGE=${PJGW_BASE_IMAGE:-pujiang-base:bookworm}
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
SUITE=bookworm
PACKAGES=ca-certificates,python3,python3-venv

mirror() {
    # deb822 (`URIs:` of a file listing Suites: bookworm) or a one-line `deb URL bookworm`
    local found
    found=$(awk '/^URIs:/ {uri=$2} /^Suites:.*(^| )bookworm( |$)/ && uri ~ /\/debian\/?$/ {print uri; exit}' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    if [ -z "$found" ]; then
        found=$(awk '$1 == "deb" && $3 == "bookworm" && $2 ~ /\/debian\/?$/ {print $2; exit}' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
    fi
    echo "${found:-http://deb.debian.org/debian}"
}

if [ "${1:-}" != "--force" ] && "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
    echo ">> $IMAGE exists (deploy/docker/base-image.sh --force rebuilds it)"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }

MIRROR=${DEBIAN_MIRROR:-$(mirror)}
root=$(mktemp -d /var/tmp/pjgw-rootfs.XXXXXX)
cleanup() {
    # debootstrap mounts /proc and /sys inside the target while it runs: unmount before rm
    for mount in proc sys dev/pts dev; do
        if mountpoint -q "$root/$mount"; then umount -l "$root/$mount" || true; fi
    done
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT

echo ">> debootstrap $SUITE (minbase + $PACKAGES) from $MIRROR"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" \
    > "$root.log" 2>&1 || { tail -n 40 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    echo ">> adding this machine's local CAs: $(cd /usr/local/share/ca-certificates && echo *.crt)"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1
fi
# apt's lists and downloaded packages are not part of an image
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/var/cache/debconf/*-old

echo ">> docker import -> $IMAGE"
tar --numeric-owner -C "$root" -c . \
    | "$DOCKER" import --message "debootstrap $SUITE minbase + $PACKAGES from $MIRROR" \
        --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
"$DOCKER" image ls "$IMAGE"
