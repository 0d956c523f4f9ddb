"""Image CPU work (decoding, alignment, carry-over) off the event loop.

One worker thread per node: OpenCV releases the GIL inside each of its calls, so the loop
keeps serving live traffic while an image is worked on, and one thread leaves the other
cores to the loop and the database. OpenCV's own parallelism is turned off for the same
reason (it would take every core for a big image). Jobs wait in a bounded line: past
`MAX_WAITING` the caller is told to come back (503 `images-busy`) rather than queueing
without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import cv2

from imagechat.domain.errors import Unavailable

# Jobs of a node that may wait for the worker at once (each holds a decoded image, up to
# IMAGECHAT_IMAGE_MAX_PIXELS x 3 bytes, while it waits).
MAX_WAITING = 8

P = ParamSpec("P")
T = TypeVar("T")


# The worker thread's scheduling priority (Linux nice, per thread): below the loop's, so a
# busy machine runs the loop first and image work in the time left.
WORKER_NICENESS = 10


def _one_thread() -> None:
    cv2.setNumThreads(1)
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not permitted
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)


class ImageWork:
    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._waiting = 0

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._waiting >= MAX_WAITING:
            raise Unavailable("The server is busy with other images; try again shortly.",
                              "images-busy")
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imagechat-images",
                                            initializer=_one_thread)
        self._waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
        finally:
            self._waiting -= 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
