"""Raises from a helper, so the reported stack trace has two frames."""


def fail():
    raise ValueError("something broke")


def lambda_handler(event, context):
    fail()
