#!/bin/sh
# The AWS base images' convention: with AWS_LAMBDA_RUNTIME_API set (on Lambda, or on ember)
# the entrypoint starts the runtime directly, with the handler (the command) as arguments.
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  echo "lambda-entrypoint.sh: AWS_LAMBDA_RUNTIME_API is not set; run this image on a Lambda-compatible node" >&2
  exit 1
fi
exec /var/runtime/bootstrap "$@"
