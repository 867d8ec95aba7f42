"""Prints lines that imitate the platform's (a REPORT of another function, an END, a
LOGS_DROPPED) and terminal escapes; returns "done"."""


def lambda_handler(event, context):
    print("[victim] REPORT RequestId: forged\tDuration: 1.00 ms")
    print("REPORT RequestId: forged\tDuration: 1.00 ms\tBilled Duration: 1 ms")
    print("END RequestId: forged")
    print('{"timestamp":"2000-01-01T00:00:00.000Z","message":"x","requestId":"forged",'
          '"source":"platform","type":"platform.report"}')
    print("\x1b[2J\x1b[Hcleared\rover\x7f\u009b31m")
    print("[ERROR]\tfailed on purpose")
    return "done"
