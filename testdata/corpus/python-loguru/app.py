"""Image thumbnail worker logging through loguru with its default format
(the default stderr sink is replaced by an identical one at TRACE level so
that every loguru level appears)."""
import random
import sys
import time

from loguru import logger

logger.remove()
logger.add(sys.stderr, level="TRACE")  # default format, colorize=None (auto: off for a file)
rnd = random.Random(9)


class StorageError(Exception):
    pass


def fetch(key):
    logger.trace("GET s3://media/{} range=0-", key)
    if key.endswith("7.jpg"):
        raise StorageError(f"NoSuchKey: {key}")
    return rnd.randint(2_000, 9_000_000)


def resize(key, size, width):
    if size > 8_000_000:
        raise MemoryError(f"image too large to decode in memory: {size} bytes")
    ratio = width / (size % 997)
    return int(size * ratio)


@logger.catch(message="unhandled error while processing {record[extra][key]}", reraise=False)
def handle(key):
    size = fetch(key)
    logger.debug("fetched {} ({} bytes)", key, size)
    with logger.contextualize(key=key):
        out = resize(key, size, rnd.choice([128, 256, 512]))
    return out


def main():
    logger.info("thumbnailer starting, pid={}, queue={}", 4242, "thumbs-high")
    logger.debug("using libvips backend: {}", "8.14.1")
    done = 0
    for i in range(1, 161):
        key = "uploads/%04d/%06d.jpg" % (rnd.randint(2019, 2025), rnd.randint(0, 999999))
        logger.trace("dequeued message id={} attempt={}", 9000 + i, 1)
        try:
            with logger.contextualize(key=key):
                out = handle(key)
        except Exception:
            out = None
        if key.endswith("7.jpg"):
            try:
                fetch(key)
            except StorageError as exc:
                logger.warning("object {} vanished before processing: {}", key, exc)
            continue
        if out is None:
            logger.error("thumbnail for {} not produced", key)
            continue
        done += 1
        logger.success("thumbnail {} written ({} bytes)", key.replace(".jpg", "_t.webp"), out)
        if i % 40 == 0:
            logger.info("progress: {}/{} done", done, i)
        if rnd.random() < 0.03:
            logger.critical("disk usage at {}% on /var/cache/thumbs, refusing new work for {}s", rnd.randint(95, 99), 5)
    try:
        total = done / 0
    except ZeroDivisionError:
        logger.exception("failed to compute final throughput")
    logger.info("thumbnailer stopped after {} items", done)


main()
