"""The Python no-op function of `ember bench`: answers every event with a constant, so a
cold start measures the runtime and the sandbox, not the handler."""


def handler(event, context):
    return {"ok": True}
