"""A cron job: prints the Scheduled Event EventBridge (here: the node) sends each minute."""

import json


def lambda_handler(event, context):
    print(f"tick at {event.get('time')} from {event.get('resources')}")
    print(json.dumps(event))
