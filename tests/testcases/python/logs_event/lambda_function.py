"""Prints the event it got on one line ("EVENT {...}") and returns nothing."""

import json


def lambda_handler(event, context):
    print("EVENT " + json.dumps(event))
