"""Logs through the standard `logging` module, as Lambda functions do: a record at init, then
one at each level, a multi-line one, an exception with its traceback and one with `extra`
fields. The event's "level" (a logging level name), if any, is set on the root logger first."""

import logging

logging.getLogger().warning("init line")
logger = logging.getLogger("app")


def lambda_handler(event, context):
    if event.get("level"):
        logging.getLogger().setLevel(event["level"])
    logger.debug("debug line")
    logger.info("info line")
    logger.warning("warning line one\nline two")
    try:
        raise ValueError("bad value")
    except ValueError:
        logger.exception("caught it")
    logger.error("with extra", extra={"order": 7})
    print("print line")
    root = logging.getLogger()
    return {"root_level": logging.getLevelName(root.level), "handlers": len(root.handlers)}
