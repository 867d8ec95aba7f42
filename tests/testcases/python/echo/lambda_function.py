"""Returns the event unchanged."""


def lambda_handler(event, context):
    return event
