"""The Lambda console's default Python function, behind an ALB-style route.

Its response document has no Content-Type header, so the load balancer (here: the node) sends
the body as application/octet-stream and a browser offers it as a download.
"""

import json


def lambda_handler(event, context):
    # TODO implement
    return {
        'statusCode': 200,
        'body': json.dumps('Hello from Lambda!')
    }
