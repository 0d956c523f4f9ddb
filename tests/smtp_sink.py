"""An SMTP server for the email tests, run as its own process by aiosmtpd's command line:

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c tests.smtp_sink.Collector DIR

It keeps every message it accepts in the maildir DIR and notes each recipient it is asked
to take (RCPT) in DIR/rcpt.log. Addresses starting with `bounce` are refused for good
(550 at RCPT), those starting with `later` for now (451).
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from aiosmtpd.handlers import Mailbox


class Collector(Mailbox):
    def __init__(self, directory: str) -> None:
        for sub in ("tmp", "new", "cur"):  # Maildir makes these only in a new directory
            (Path(directory) / sub).mkdir(parents=True, exist_ok=True)
        super().__init__(directory)
        self.log = Path(directory) / "rcpt.log"

    @classmethod
    def from_cli(cls, parser: ArgumentParser, *args: str) -> Collector:
        if len(args) != 1:
            parser.error("Collector takes the maildir's directory")
        return cls(args[0])

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self.log.open("a") as log:
            log.write(address + "\n")
        local = address.partition("@")[0].lower()
        if local.startswith("bounce"):
            return f"550 5.1.1 <{address}>: no such mailbox"
        if local.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"
