"""Imports a module that does not exist: an init error."""

import ember_no_such_module  # noqa: F401


def lambda_handler(event, context):
    return "unreachable"
