#!/usr/bin/env bash
# Builds the `echo-image` example: an OCI image layout (tag `latest`) of BusyBox (static, from
# Debian's busybox-static) and a shell runtime that returns each event, with the AWS base
# images' entrypoint convention. No Docker, no registry: umoci makes the layout.
#   bash examples/images/build-echo-image.sh [OUT_DIR]    (default: examples/images/build/echo)
# Does nothing when OUT_DIR already holds the image built from the same sources.
# Needs: umoci, busybox-static (scripts/setup.sh installs both).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build/echo}
stamp=$(cat "$here/echo/"* /bin/busybox "$0" | sha256sum | cut -c1-16)
if [[ -f $out/index.json && $(cat "$out/.ember-sources" 2>/dev/null) == "$stamp" ]]; then
  exit 0
fi
for tool in umoci busybox; do
  command -v "$tool" >/dev/null || { echo "build-echo-image: needs $tool (bash scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,proc,dev,tmp,etc,var/task,var/runtime}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in sh wget sed cat pwd echo ls; do ln -s busybox "$root/bin/$applet"; done
install -m 0755 "$here/echo/lambda-entrypoint.sh" "$root/lambda-entrypoint.sh"
install -m 0755 "$here/echo/bootstrap" "$root/var/runtime/bootstrap"
echo "echo handler: the runtime returns each event" >"$root/var/task/README"

layout=$work/layout
umoci init --layout "$layout"
umoci new --image "$layout:latest"
# umoci's own unpack/repack makes the layer from a bundle's rootfs.
umoci unpack --image "$layout:latest" "$work/bundle" >/dev/null
cp -a "$root/." "$work/bundle/rootfs/"
umoci repack --image "$layout:latest" "$work/bundle"
umoci config --image "$layout:latest" \
  --config.entrypoint /lambda-entrypoint.sh --config.cmd echo.handler \
  --config.workingdir /var/task --config.env PATH=/bin \
  --config.env LAMBDA_TASK_ROOT=/var/task --config.env LAMBDA_RUNTIME_DIR=/var/runtime
umoci gc --layout "$layout"
echo "$stamp" >"$layout/.ember-sources"

mkdir -p "$(dirname "$out")"
rm -rf "$out"
mv "$layout" "$out"
echo "build-echo-image: $out:latest"
