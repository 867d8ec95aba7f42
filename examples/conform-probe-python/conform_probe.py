"""The probe handler of `ember conform` for Python runtimes (_HANDLER=conform_probe.handler).

The event's "conform" field says what to do; docs/runtimes.md ("Checking a runtime") has the
contract. Each answer is what the runtime gave the handler, so conform can see whether the
runtime read the Runtime API's headers."""

import os
import time


class ConformProbeError(Exception):
    """Raised on request, to check how the runtime reports a function error."""


def _context_fields(context):
    client_context = context.client_context
    identity = context.identity
    return {
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "invoked_function_arn": context.invoked_function_arn,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "client_context": None if client_context is None else {
            "custom": client_context.custom,
            "env": client_context.env,
            "client": None if client_context.client is None else vars_of(client_context.client),
        },
        "cognito_identity": None if identity is None else {
            "cognitoIdentityId": identity.cognito_identity_id,
            "cognitoIdentityPoolId": identity.cognito_identity_pool_id,
        },
    }


def vars_of(record):
    names = getattr(record, "__slots__", None) or vars(record)
    return {name: getattr(record, name, None) for name in names}


def handler(event, context):
    command = event.get("conform") if isinstance(event, dict) else None
    if command == "echo":
        return event
    if command == "env":
        return _context_fields(context)
    if command == "error":
        raise ConformProbeError(event.get("message", "conform probe error"))
    if command == "sleep":
        time.sleep(event["ms"] / 1000)
        return {"slept_ms": event["ms"]}
    if command == "big":
        return "x" * event["bytes"]
    if command == "length":
        return {"length": len(event["data"])}
    raise ValueError(f"not a conform probe event: {str(event)[:100]}")
