"""Payment settlement worker logging through structlog.
usage: app.py console|json
console: structlog's default processor chain (ConsoleRenderer, colours off
         because the output is a file); json: the common production chain
         ending in JSONRenderer."""
import logging
import random
import sys
import time

import structlog

mode = sys.argv[1]
if mode == "console":
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.dev.set_exc_info,
            structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
    )
else:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
    )

rnd = random.Random(21)
log = structlog.get_logger("settlement")


class GatewayTimeout(Exception):
    pass


def charge(acct, amount):
    r = rnd.random()
    if r < 0.07:
        raise GatewayTimeout("gateway did not answer within 2.0s")
    if r < 0.11:
        raise ValueError("invalid currency code %r" % rnd.choice(["US", "EURO", ""]))
    if r < 0.24:
        return {"declined": True, "reason": rnd.choice(["insufficient_funds", "card_expired", "fraud_suspected"])}
    return {"declined": False, "auth": "A%06d" % rnd.randint(0, 999999)}


def main():
    log.info("worker starting", version="2.4.1", queue="settlements", concurrency=4)
    log.debug("loaded fee schedule", tiers=3, currency="EUR")
    batches = 0
    for batch in range(1, 41):
        structlog.contextvars.bind_contextvars(batch_id="b-%04d" % batch)
        blog = log.bind(shard=batch % 4)
        n = rnd.randint(6, 14)
        blog.info("batch received", size=n)
        settled = declined = 0
        for i in range(n):
            acct = "acct_%05d" % rnd.randint(1, 40000)
            amount = round(rnd.uniform(0.5, 900), 2)
            blog.debug("charging", account=acct, amount=amount)
            for attempt in range(1, 4):
                try:
                    res = charge(acct, amount)
                    break
                except GatewayTimeout:
                    blog.warning("gateway timeout, retrying", account=acct, attempt=attempt, backoff_ms=100 * 2 ** attempt)
                    res = None
                except ValueError:
                    blog.exception("rejected malformed payment", account=acct)
                    res = None
                    break
            else:
                blog.error("giving up after retries", account=acct, attempts=3)
            if res is None:
                continue
            if res["declined"]:
                declined += 1
                blog.warning("payment declined", account=acct, reason=res["reason"])
            else:
                settled += 1
                if amount > 850:
                    blog.info("large settlement flagged for review", account=acct, amount=amount, auth=res["auth"])
        blog.info("batch done", settled=settled, declined=declined, duration_ms=rnd.randint(40, 900))
        if declined > 2:
            blog.critical("decline rate above threshold, pausing shard", declined=declined, threshold=2)
        if batch == 9:
            try:
                {}["ledger"]
            except KeyError:
                blog.error("ledger snapshot failed", exc_info=True)
        structlog.contextvars.clear_contextvars()
        batches += 1
        time.sleep(0.01)
    log.info("worker stopped", batches=batches)


main()
