// The handler of ember's realistic container image (examples/images/build-node-image.sh):
// the image's CMD names it as "index.handler", and aws-lambda-ric loads it from /var/task.
// It answers with what a caller needs to tell that the event went through the image's own
// Node.js and runtime interface client: the event, the request id and where it ran.
'use strict';

const os = require('os');

exports.handler = async (event, context) => {
  return {
    message: 'hello from a Debian container image',
    echo: event,
    requestId: context.awsRequestId,
    functionName: context.functionName,
    remainingTimeMs: context.getRemainingTimeInMillis(),
    node: process.version,
    handler: process.env._HANDLER,
    cwd: process.cwd(),
    uid: process.getuid(),
    osRelease: os.release(),
  };
};
