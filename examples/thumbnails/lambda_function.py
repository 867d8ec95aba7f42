"""Thumbnails: for each image uploaded into the `images` bucket, writes a thumbnail of at most
128x128 pixels into the `thumbnails` bucket, under the same key.

The handler is what a Lambda function behind an S3 notification does, with the buckets seen as
directories (ember's `mounts`, as Lambda's file system mounts) instead of S3 API calls. A file
that is not an image raises, so the event is retried and then lands in the dead-letter directory.
"""

import os
import urllib.parse

from PIL import Image

SOURCE_ROOT = os.environ.get("SOURCE_ROOT", "/mnt/images")
TARGET_ROOT = os.environ.get("TARGET_ROOT", "/mnt/thumbnails")
SIZE = (128, 128)


def lambda_handler(event, context):
    made = []
    for record in event["Records"]:
        # S3 URL-encodes the key in its records, with '+' for spaces.
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        source = os.path.join(SOURCE_ROOT, key)
        target = os.path.join(TARGET_ROOT, key)
        with Image.open(source) as image:  # raises for anything that is not an image
            image.thumbnail(SIZE)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            # Written in place: the bucket notifies a file when it is closed, so nobody sees it
            # half-written (a temporary name would be an object of its own).
            image.save(target, format=image.format)
        print(f"thumbnail of {key}: {target} {image.size[0]}x{image.size[1]}")
        made.append({"key": key, "thumbnail": target})
    return {"thumbnails": made}
