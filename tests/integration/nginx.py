"""A private nginx (Debian's package) running the README's configuration in front of test
nodes: its own process, configuration file, port, logs and temporary files, stopped by its
PID; never the system's service."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.server_process import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_snippet() -> str:
    """The README's nginx configuration, exactly as written there."""
    block = re.search(r"<!-- nginx -->\n```nginx\n(.*?)\n```", README.read_text(), re.S)
    assert block, "the README's nginx configuration is missing"
    return block[1]


def nginx_binary() -> str:
    """nginx, or a skip (a failure under CI, where scripts/test installs it)."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None)
    if found is None:
        if os.environ.get("CI"):
            raise RuntimeError("nginx is required under CI (scripts/test installs it)")
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    return found


class Nginx:
    """nginx with the README's snippet, its `upstream` servers and `listen` port replaced."""

    def __init__(self, upstreams: list[str]) -> None:
        self.binary = nginx_binary()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.address = f"127.0.0.1:{self.port}"
        self.alive = True  # the balancer is never the one that stops
        self.dir = Path(tempfile.mkdtemp(prefix="imagechat-nginx-"))
        # Each `server` line of the README's upstream, its address replaced by a node's.
        lines = iter(upstreams)
        snippet, upstream_count = re.subn(
            r"(?m)^(\s*server )10\.0\.0\.\d+:8000([^;]*;)$",
            lambda m: f"{m[1]}{next(lines)}{m[2]}", readme_snippet())
        snippet, listen_count = re.subn(r"listen 80;", f"listen 127.0.0.1:{self.port};", snippet)
        assert (upstream_count, listen_count) == (len(upstreams), 1), \
            "the README's snippet changed shape"
        temp = {name: self.dir / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir()
        # As root, nginx's workers would switch to `nobody`, who may not enter this folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.dir / 'nginx.pid'};\n"
            f"error_log {self.dir / 'error.log'} warn;\n"
            "events { worker_connections 4096; }\n"
            "http {\n    access_log off;\n"
            f"    client_body_temp_path {temp['body']};\n    proxy_temp_path {temp['proxy']};\n"
            f"    fastcgi_temp_path {temp['fastcgi']};\n    uwsgi_temp_path {temp['uwsgi']};\n"
            f"    scgi_temp_path {temp['scgi']};\n"
            f"{snippet}\n}}\n")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        config = str(self.dir / "nginx.conf")
        checked = subprocess.run([self.binary, "-t", "-p", str(self.dir), "-c", config],
                                 capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.dir), "-c", config],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.errors()
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.2
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {self.errors()}")

    def errors(self) -> str:
        path = self.dir / "error.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # fast shutdown, by its PID
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
