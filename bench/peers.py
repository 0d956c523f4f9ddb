"""Starting one server under test, its subscribers and its publisher, the same way for each."""

from __future__ import annotations

from dataclasses import dataclass

import psutil

from bench.clients import ClientPool, ClientSpec
from bench.config import REFERENCE_TARGETS, Config, subscriber_target
from bench.publishers import PostPublisher, Publisher, SocketioPublisher, WebsocketsPublisher
from bench.servers import Lab, Server

READY_TIMEOUT_SECS = 180.0


def split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def specs_for(server: Server, kind: str, total: int, processes: int, mode: str, *,
              url_id: str = "", batch: bool = False, first_index: int = 0) -> list[ClientSpec]:
    target = (subscriber_target(url_id, batch=batch) if kind == "imagechat"
              else REFERENCE_TARGETS[kind])
    protocol = "socketio" if kind == "socketio" else "ws"
    specs = []
    for count in split(total, processes):
        specs.append(ClientSpec("127.0.0.1", server.port, target, count, first_index,
                                protocol, mode))
        first_index += count
    return specs


@dataclass
class Peer:
    kind: str
    server: Server
    url_id: str

    @classmethod
    def start(cls, lab: Lab, kind: str, config: Config, purpose: str) -> Peer:
        server = lab.imagechat(lab.sqlite_url()) if kind == "imagechat" else lab.reference(kind)
        return cls(kind, server, config.url_id(purpose))

    def subscribers(self, total: int, processes: int, mode: str, *,
                    batch: bool = False) -> ClientPool:
        return ClientPool(specs_for(self.server, self.kind, total, processes, mode,
                                    url_id=self.url_id, batch=batch))

    async def publisher(self, *, with_comment: bool = False,
                        connections: int = 16) -> Publisher:
        if self.kind == "imagechat":
            return PostPublisher(self.server.base_url, self.url_id, with_comment=with_comment,
                                 connections=connections)
        if self.kind == "picows":
            # The same /pub protocol; ImageChat's own events, as its fan-out-only step sends.
            from imagechat.domain.rules import clean_url_id

            return await WebsocketsPublisher.open(self.server.port, clean_url_id(self.url_id))
        if self.kind == "websockets":
            return await WebsocketsPublisher.open(self.server.port)
        return await SocketioPublisher.open(self.server.port)


class CpuMeter:
    """CPU seconds used by a set of processes over a window, as % of one core."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._start: dict[str, float] = {}
        self._machine = psutil.cpu_times()

    def _now(self) -> dict[str, float]:
        out = {}
        for name, process in self.processes.items():
            # With `--workers`, the work is the workers': a supervisor counts its children.
            times = [p.cpu_times() for p in (process, *process.children(recursive=True))]
            out[name] = sum(t.user + t.system for t in times)
            # User space alone: the server's own work, without the kernel's socket sends.
            out[f"{name}_user"] = sum(t.user for t in times)
        return out

    def start(self) -> None:
        self._start = self._now()
        self._machine = psutil.cpu_times()

    def percent(self, wall_secs: float) -> dict[str, float]:
        """% of one core per process, and `machine`: % of all cores busy (anyone's work)."""
        end = self._now()
        out = {name: round(100 * (end[name] - self._start[name]) / wall_secs, 1)
               for name in end if not name.endswith("_user") or name == "server_user"}
        now = psutil.cpu_times()
        idle = (now.idle + now.iowait) - (self._machine.idle + self._machine.iowait)
        total = sum(now) - sum(self._machine)
        out["machine_busy_of_all_cores"] = round(100 * (1 - idle / total), 1) if total else 0.0
        return out


def pool_pids(pool: ClientPool) -> dict[str, int]:
    return {f"client{i}": p.pid for i, p in enumerate(pool.processes)}
