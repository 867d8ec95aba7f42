"""The next step of the ALB tutorial: a response document with Content-Type: text/html, which
a browser shows as a page. The route has multi_value_headers on, so a query string such as
?tag=a&tag=b arrives as arrays in multiValueQueryStringParameters.
"""

import html
import urllib.parse


def lambda_handler(event, context):
    query = event.get("multiValueQueryStringParameters") or {}
    rows = "".join(
        # ALB passes query keys and values as sent; decoding them is the function's job.
        f"<li>{html.escape(urllib.parse.unquote_plus(key))}: "
        f"{html.escape(', '.join(urllib.parse.unquote_plus(v) for v in values))}</li>"
        for key, values in sorted(query.items())
    )
    body = (
        "<html><head><title>Hello from ember</title></head><body>"
        f"<h1>Hello from Lambda!</h1><p>{event['httpMethod']} {html.escape(event['path'])}</p>"
        f"<ul>{rows}</ul></body></html>"
    )
    return {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["text/html; charset=utf-8"]},
        "body": body,
    }
