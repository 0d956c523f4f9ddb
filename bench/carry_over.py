"""Issue 14, "Measured": carry-over's accuracy on generated mockup pairs, its time for a
2,000x1,500 image with 50 conversations, and live latency while carry-overs run against
without, in the same run.

1. Accuracy: pairs from tests/mockups.py (shifts 2-15 %, scale 0.8-1.25, crops, 0-5 degree
   rotations, edited and removed elements, new elements), at two sizes; the figures the
   issue's targets name.
2. Time: decoding both images, aligning and classifying 50 conversations, in this process
   (the server runs the same functions on its worker thread); the median of several runs.
3. Live: one `imagechat serve` (SQLite), subscribers on one image and POSTs at a fixed rate
   (bench/latency.py), first alone, then while the site's backend uploads new 2,000x1,500
   versions of another image with 50 conversations, one after the other, each answered
   once its carry-over is done.

Run: `.venv/bin/python -m bench.carry_over` (about 2 minutes; `--quick` under 1).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import sqlite3
import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
from PIL import Image
from tests.mockups import BACKGROUND, Score, _affine, _inverse, make_pair

from bench.clients import ClientPool
from bench.config import Config
from bench.latency import _measure
from bench.load import LoadWatcher
from bench.peers import specs_for
from bench.publishers import PostPublisher, Publisher
from bench.servers import Lab
from imagechat.imaging.carry import carry_over
from imagechat.imaging.decode import read_image

MAX_PIXELS = 40_000_000
CARRY_IMAGE = "https://www.example.com/designs/landing-page.png"


def accuracy(pairs: int, width: int, height: int, first_seed: int = 20_000) -> dict[str, Any]:
    score = Score()
    failed = 0
    for seed in range(first_seed, first_seed + pairs):
        pair = make_pair(seed, width=width, height=height, anchors=30)
        old = read_image(pair.old, max_pixels=MAX_PIXELS)
        new = read_image(pair.new, max_pixels=MAX_PIXELS)
        result = carry_over(old.work, new.work, [t.anchor for t in pair.truths])
        failed += result.alignment is None
        score.add(pair, result.anchors)
    return {"size": f"{width}x{height}", "pairs": pairs, "not_aligned": failed,
            **score.figures()}


def timing(runs: int) -> dict[str, Any]:
    pair = make_pair(7, width=2000, height=1500, anchors=50)
    decode, carry = [], []
    for _ in range(runs):
        started = time.perf_counter()
        old = read_image(pair.old, max_pixels=MAX_PIXELS)
        new = read_image(pair.new, max_pixels=MAX_PIXELS)
        decoded = time.perf_counter()
        carry_over(old.work, new.work, [t.anchor for t in pair.truths])
        decode.append(decoded - started)
        carry.append(time.perf_counter() - decoded)
    total = [a + b for a, b in zip(decode, carry, strict=True)]
    return {"image": "2000x1500 PNG, 50 conversations", "runs": runs,
            "decode_both_ms": round(statistics.median(decode) * 1000, 1),
            "align_and_classify_ms": round(statistics.median(carry) * 1000, 1),
            "total_ms": round(statistics.median(total) * 1000, 1),
            "total_max_ms": round(max(total) * 1000, 1)}


def variants(count: int) -> tuple[list[tuple[float, float]], list[bytes]]:
    """50 conversation places and `count` related 2,000x1,500 versions of one design:
    each a slightly shifted, scaled and rotated copy, so each is a new content that
    carry-over aligns with the one before."""
    pair = make_pair(11, width=2000, height=1500, anchors=60)
    places = [(t.anchor.x, t.anchor.y) for t in pair.truths][:50]
    base = Image.open(io.BytesIO(pair.old)).convert("RGB")
    rng = random.Random(3)
    made = []
    for _ in range(count):
        matrix, size = _affine(2000, 1500, rng.uniform(0.97, 1.03), rng.uniform(-1, 1),
                               (rng.uniform(-40, 40), rng.uniform(-30, 30)), (0, 0, 0, 0))
        image = base.transform(size, Image.Transform.AFFINE, data=tuple(_inverse(matrix)),
                               resample=Image.Resampling.BICUBIC, fillcolor=BACKGROUND)
        out = io.BytesIO()
        image.save(out, "PNG", compress_level=1)
        made.append(out.getvalue())
    return places, made


def _api_secret(database_url: str) -> str:
    path = database_url.split(":///", 1)[1]
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT api_secret FROM tenants WHERE id = 'demo'").fetchone()
    return str(row[0])


async def live(lab: Lab, config: Config, uploads: int, repeats: int) -> dict[str, Any]:
    places, images = variants(uploads + 1)
    database_url = lab.sqlite_url()
    server = lab.imagechat(database_url)
    try:
        secret = _api_secret(database_url)
        upload_secs: list[float] = []
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as http:
            for x, y in places:
                response = await http.post("/comment-image-chats/demo", json={
                    "urlId": CARRY_IMAGE, "x": x, "y": y, "comment": "Here",
                    "commenterName": "Bench"})
                response.raise_for_status()

            async def upload(data: bytes) -> dict[str, Any]:
                started = time.perf_counter()
                response = await http.post(
                    "/api/v1/images/versions", content=data,
                    params={"tenantId": "demo", "urlId": CARRY_IMAGE},
                    headers={"X-API-Key": secret, "Content-Type": "image/png"})
                response.raise_for_status()
                upload_secs.append(time.perf_counter() - started)
                answer: dict[str, Any] = orjson.loads(response.content)
                return answer

            await upload(images[0])  # version 1
            upload_secs.clear()
            url_id = config.url_id("carry-latency")

            def pool() -> ClientPool:
                return ClientPool(specs_for(server, "imagechat", config.subscribers,
                                            config.client_processes, "ids", url_id=url_id))

            async def publisher() -> Publisher:
                return PostPublisher(server.base_url, url_id)

            rounds: list[dict[str, Any]] = []
            fresh = iter(images[1:])
            for _ in range(repeats):
                rounds.append(await _round(pool, publisher, config, fresh, upload))
    finally:
        lab.stop(server)
    return {"subscribers": config.subscribers, "rate_per_sec": config.latency_rate,
            "secs": config.latency_secs, "rounds": rounds,
            "upload_answer_ms_median": round(statistics.median(upload_secs) * 1000, 1),
            "upload_answer_ms_max": round(max(upload_secs) * 1000, 1)}


_KEYS = ("all_p50_ms", "all_p99_ms", "all_max_ms", "each_p99_ms", "missing", "post_ms_p50",
         "post_ms_p99")


async def _round(pool: Any, publisher: Any, config: Config, images: Iterator[bytes],
                 upload: Any) -> dict[str, Any]:
    """Latency without carry-over, then during carry-overs (back to back, same sizes)."""
    watcher = LoadWatcher()
    watcher.start()
    without = await _measure(pool(), publisher, config)
    without_load = await watcher.stop()
    carried: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def keep_uploading() -> None:
        # Each upload a content never seen: each one a new version, carried over.
        for data in images:
            if stop.is_set():
                return
            carried.append(await upload(data))

    loader = asyncio.create_task(keep_uploading())
    await asyncio.sleep(0.5)  # the first carry-over is under way
    watcher = LoadWatcher()
    watcher.start()
    during = await _measure(pool(), publisher, config)
    during_load = await watcher.stop()
    stop.set()
    await loader
    return {
        "without": {k: without.get(k) for k in _KEYS},
        "during_carry_over": {k: during.get(k) for k in _KEYS},
        # CPU of processes this run did not start (other people's tests), % of one core.
        "others_cpu_without": without_load.get("others_cpu_mean"),
        "others_cpu_during": during_load.get("others_cpu_mean"),
        "carry_overs_done": len(carried),
        "carried_last": carried[-1]["carried"] if carried else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=60, help="mockup pairs per size")
    parser.add_argument("--quick", action="store_true", help="fewer pairs and subscribers")
    parser.add_argument("--steps", default="accuracy,time,live",
                        help="which of accuracy,time,live to run")
    parser.add_argument("--rounds", type=int, default=2,
                        help="live latency rounds, each without and then during carry-overs")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    pairs = 15 if args.quick else args.pairs
    config = Config.quick() if args.quick else Config(subscribers=500)
    steps = set(args.steps.split(","))
    figures: dict[str, Any] = {}
    if "accuracy" in steps:
        figures["accuracy"] = [accuracy(pairs, 640, 480), accuracy(pairs, 1600, 1200)]
    if "time" in steps:
        figures["time"] = timing(3 if args.quick else 7)
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    if "live" in steps:
        lab = Lab()
        try:
            # Enough new versions for every round's carry-overs (about 0.4 s each).
            uploads = int(args.rounds * (config.latency_secs + config.warmup_secs + 4) / 0.3)
            figures["live"] = asyncio.run(live(lab, config, uploads, args.rounds))
        finally:
            lab.close()
        print(orjson.dumps(figures["live"], option=orjson.OPT_INDENT_2).decode())
    if args.json:
        with open(args.json, "wb") as out:
            out.write(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
