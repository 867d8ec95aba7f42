#!/usr/bin/env bash
# Installs, builds and starts a node serving examples/ on 127.0.0.1:9000 (HTTP routes on
# 127.0.0.1:9001).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release
bash examples/images/build-echo-image.sh
cat <<'MSG'

ember is starting on http://127.0.0.1:9000 with the functions in examples/ember.yaml.
From another terminal:
  ./build/release/ember invoke hello --payload '{"key1":"value1","key2":"value2","key3":"value3"}' --log-tail
  /usr/bin/aws lambda invoke --endpoint-url http://127.0.0.1:9000 --function-name hello \
      --cli-binary-format raw-in-base64-out --payload '{"key1":"a","key2":"b","key3":"c"}' out.json
  ./build/release/ember invoke echo-image --payload '{"from":"an image"}'
  curl -i http://127.0.0.1:9001/hello                  # ALB route: the console's default, a download
  curl -i 'http://127.0.0.1:9001/page?tag=a&tag=b'     # a text/html page
  cp some.png examples/buckets/images/                 # a thumbnail in examples/buckets/thumbnails/
Stop it with Ctrl-C.

MSG
exec ./build/release/ember serve --config examples/ember.yaml
