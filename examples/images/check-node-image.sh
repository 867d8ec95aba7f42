#!/bin/bash
# Checks, without ember, that the image from build-node-image.sh works as a Lambda function:
# unpacks it with umoci, runs its entrypoint and command under an OCI runtime (read-only
# root, writable /tmp, uid 993, the Lambda variables) against a one-event Runtime API served
# by runtime_api_check.py on 127.0.0.1, and succeeds only when the handler's result arrives.
#
# Usage: check-node-image.sh IMAGE_DIR [TAG [OPTION...]]    (TAG defaults to "latest")
#   OPTIONs go to runtime_api_check.py, e.g. --entrypoint '["/usr/bin/node", "..."]' to
#   override the image's entrypoint as Lambda's ImageConfig does (--help lists them).
# Environment: OCI_RUNTIME (default runc; crun works where it can start containers)
# Needs root. Missing Debian packages are installed with apt-get.
set -euo pipefail

# Debian packages this script needs; the runtime_api_check.py uses only Python's library.
readonly HOST_PACKAGES=(umoci runc python3)

die() {
  echo "check-node-image.sh: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || die "usage: check-node-image.sh IMAGE_DIR [TAG [OPTION...]]"
image_dir=$(realpath -- "$1") || die "no image at $1"
tag=${2:-latest}
runtime=${OCI_RUNTIME:-runc}
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly script_dir
[[ $(id -u) -eq 0 ]] || die "must run as root (umoci unpack and $runtime run need it)"
missing=()
for pkg in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "check-node-image.sh: installing ${missing[*]}" >&2
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v "$runtime" >/dev/null || die "OCI runtime $runtime is not installed"

work=$(mktemp -d /tmp/check-node-image.XXXXXX)
container_id=check-node-image-$$
cleanup() {
  "$runtime" delete --force "$container_id" >/dev/null 2>&1 || true
  rm -rf -- "$work"
}
trap cleanup EXIT

umoci unpack --image "$image_dir:$tag" "$work/bundle" >/dev/null ||
  die "umoci cannot unpack $image_dir:$tag"
# The sandbox uid must be able to reach the root: umoci unpack leaves the bundle directory 0700.
chmod 0755 "$work" "$work/bundle"
python3 "$script_dir/runtime_api_check.py" --image "$image_dir" --tag "$tag" --bundle "$work/bundle" \
  --container-id "$container_id" --runtime "$runtime" "${@:3}"
