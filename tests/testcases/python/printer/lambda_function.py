"""Prints event["lines"] numbered lines, "line 1" upwards; returns how many."""


def lambda_handler(event, context):
    count = event["lines"]
    for number in range(1, count + 1):
        print(f"line {number}")
    return count
