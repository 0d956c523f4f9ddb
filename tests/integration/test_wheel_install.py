"""The Dockerfile's install steps without Docker (no engine runs here): build the wheel,
install it into a clean virtual environment, and run what the image runs.

This is the check that the wheel carries everything the server needs at run time (the
migrations, the widget's modules and styles, the demo, the dashboard's templates) and that
its dependencies, the API documentation's assets included, come with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx

from imagechat import __version__
from tests.server_process import free_port

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_SECS = 600
START_TIMEOUT_SECS = 60


def run(*argv: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_SECS)
    assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installs_into_a_clean_venv_and_serves(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", dist, ROOT)
    [wheel] = dist.glob("imagechat-*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        f"{wheel}[redis]")
    assert run(bin_dir / "imagechat", "--version").strip() == f"imagechat {__version__}"

    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(data),
           "IMAGECHAT_DATABASE_URL": f"sqlite:///{data / 'imagechat.db'}"}
    server = subprocess.Popen([bin_dir / "imagechat", "serve", "--port", str(port)], cwd=data,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECS
        while True:
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            try:
                ready = httpx.get(f"{base}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the installed server did not get ready"
            time.sleep(0.2)
        assert ready.json() == {"status": "success", "checks": {"database": "ok"}}
        assert httpx.get(f"{base}/healthz").json()["version"] == __version__
        for path in ("/demo", "/demo/mockup.svg", "/js/embed-image-chat.min.js",
                     "/js/embed-image-chat.min.css", "/docs", "/docs-assets/swagger-ui.css",
                     "/dashboard/sign-in"):
            assert httpx.get(f"{base}{path}").status_code == 200, path
        posted = httpx.post(f"{base}/comments/demo?urlId=page",
                            json={"comment": "hi", "commenterName": "Ann"})
        assert posted.status_code == 200, posted.text
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert f"ImageChat {__version__} on http://127.0.0.1:{port}" in output
    assert "Traceback" not in output, output
