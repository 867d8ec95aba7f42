#!/usr/bin/env bash
# Installs a build into a temporary prefix, moves the prefix (the installed `ember` must find
# ember-sandbox-init and the runtimes relative to itself), and invokes a Python function through
# the installed `ember serve` in a native sandbox. The function checks, inside the sandbox, that
# /var/runtime is the installed runtimes directory and that ember's runtime client is loaded from
# its installed bytecode, not compiled again.
# Usage: install_test.sh BUILD_DIR. Exit 77 (skipped) when not root: native sandboxes need it.
set -euo pipefail
build=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
if [[ $(id -u) -ne 0 ]]; then
  echo "install_test: skipped: needs root for native sandboxes"
  exit 77
fi

work=$(mktemp -d /tmp/ember-install-test.XXXXXX)
node=
cleanup() {
  if [[ -n $node ]]; then kill -KILL "$node" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cmake --install "$build" --prefix "$work/staged" >"$work/install.log"
mv "$work/staged" "$work/prefix"
prefix=$work/prefix
for installed in bin/ember libexec/ember/ember-sandbox-init \
  share/ember/runtimes/python/bootstrap.py share/ember/runtimes/python/ember_runtime.py; do
  [[ -f $prefix/$installed ]] || { echo "install_test: $installed not installed" >&2; exit 1; }
done
marker=installed-by-install-test
touch "$prefix/share/ember/runtimes/$marker"

# The sandbox's user (its own uid, group 993) reads the code through its bind mount.
mkdir -m 755 "$work/code"
install -m 644 "$here/lambda_function.py" "$work/code/"
cat >"$work/ember.yaml" <<YAML
node:
  listen: 127.0.0.1:0
  state_dir: $work/state
  shutdown_grace_s: 1
functions:
  - name: probe
    runtime: python3
    handler: lambda_function.lambda_handler
    code: $work/code
    timeout_s: 30
YAML

mkfifo "$work/ready"
"$prefix/bin/ember" serve --config "$work/ember.yaml" --ready-fd 3 3>"$work/ready" \
  >"$work/serve.log" 2>&1 &
node=$!
address=
read -r address <"$work/ready" || true
if [[ -z $address ]]; then
  echo "install_test: the installed ember serve did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

status=0
result=$("$prefix/bin/ember" invoke probe --endpoint "http://$address" \
  --payload "{\"marker\": \"$marker\"}") || status=$?
kill -TERM "$node"
wait "$node" || true
node=
if ((status != 0)); then
  echo "install_test: invoke exited $status: $result" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

python3 - "$result" <<'PY'
import json
import sys

result = json.loads(sys.argv[1])
print(json.dumps(result, indent=1))
assert result["marker"], "/var/runtime is not the installed runtimes directory"
from_bytecode = "# code object from '/var/runtime/python/__pycache__/ember_runtime."
assert any(line.startswith(from_bytecode) for line in result["import_log"]), (
    "ember_runtime was not loaded from the installed bytecode")
PY
echo "install_test: passed"
