"""Returns "opened" once the test opens the gate: the FIFO named by event["gate"].

Opening a FIFO for reading blocks until a writer opens it, and the read ends when the
writer closes it: the invocation runs exactly until the test lets it finish (or its
timeout ends it). See tests/support/fifo_gate.hpp.
"""


def lambda_handler(event, context):
    with open(event["gate"], "rb") as gate:
        gate.read()
    return "opened"
