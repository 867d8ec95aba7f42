"""Imports fine but defines no lambda_handler: an init error."""


def some_other_function(event, context):
    return "not the handler"
