"""A webhook receiver run as its own process by the tests: only the standard library, so it
checks the signature the way any site would, without ImageChat's code.

    python tests/integration/webhook_receiver.py PORT LOG_FILE [--secret S] [--answers 500,200]
        [--delay SECS] [--hang] [--location URL]

Every POST is written to LOG_FILE (one JSON object a line, flushed before answering) with
its delivery id, event, whether the signature verified, the status answered and the body.
The n-th request for one delivery id gets the n-th of `--answers` (the last one repeats);
a bad signature gets 400; a request cut off before its whole body arrived is not a delivery
and is not written. `--hang` never answers; `--delay` waits before answering;
`--location` goes with 3xx answers.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECS = 300


def verified(secret: str, header: str, body: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > TOLERANCE_SECS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("log")
    parser.add_argument("--secret", default="")
    parser.add_argument("--answers", default="200")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--location", default="")
    options = parser.parse_args()
    answers = [int(a) for a in options.answers.split(",")]
    with open(options.log, "a", encoding="utf-8") as log:
        serve(options, answers, log)


def serve(options: argparse.Namespace, answers: list[int], log: Any) -> None:
    seen: dict[str, int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:
                # The sender died mid-request (a node killed in a test): no delivery was
                # made, as any web server would see it; the sender retries it later.
                return
            delivery = self.headers.get("ImageChat-Delivery", "")
            valid = verified(options.secret, self.headers.get("ImageChat-Signature", ""), body)
            with lock:
                turn = seen.get(delivery, 0)
                seen[delivery] = turn + 1
                status = answers[min(turn, len(answers) - 1)] if valid else 400
                record: dict[str, Any] = {
                    "delivery": delivery, "event": self.headers.get("ImageChat-Event"),
                    "valid": valid, "status": status, "body": json.loads(body or b"null")}
                log.write(json.dumps(record) + "\n")
                log.flush()
            if options.hang:
                time.sleep(3600)
                return
            if options.delay:
                time.sleep(options.delay)
            self.send_response(status)
            if options.location and 300 <= status < 400:
                self.send_header("Location", options.location)
            self.send_header("Content-Type", "text/plain")
            answer = f"answered {status}".encode()
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
