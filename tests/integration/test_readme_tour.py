"""The README's API tour, executed: every `<!-- tour -->` block runs in order in one bash
session against a fresh server, and prints what the README shows under it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.server_process import IMAGECHAT_BIN, running_server

README = Path(__file__).resolve().parents[2] / "README.md"
DELIMITER = "=====tour-block-end====="
_BLOCK_RE = re.compile(
    r"<!-- tour -->\n```bash\n(?P<code>.*?)```\n(?:```text\n(?P<expected>.*?)```)?", re.S
)


def tour_blocks() -> list[tuple[str, str]]:
    text = README.read_text()
    return [(m["code"], m["expected"] or "") for m in _BLOCK_RE.finditer(text)]


def matches(expected: str, actual: str) -> bool:
    """`…` in the README stands for any text (ids, times)."""
    pattern = ".*?".join(re.escape(part) for part in expected.strip().split("…"))
    return re.fullmatch(pattern, actual.strip(), re.S) is not None


def test_readme_has_a_tour() -> None:
    blocks = tour_blocks()
    assert len(blocks) >= 6
    assert all(code.strip() for code, _ in blocks)


def test_readme_tour_runs_as_shown(tmp_path: Path) -> None:
    blocks = tour_blocks()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'tour.db'}"
    with running_server(database_url) as base:
        script = "set -u\n"
        for code, _ in blocks:
            code = code.replace("http://127.0.0.1:8000", base)
            code = code.replace("ws://127.0.0.1:8000", base.replace("http://", "ws://"))
            code = code.replace(".venv/bin/imagechat", IMAGECHAT_BIN)
            script += f"{code}\necho '{DELIMITER}'\n"
        result = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
                 "IMAGECHAT_DATABASE_URL": database_url},
        )
    assert result.returncode == 0, result.stderr
    outputs = result.stdout.split(DELIMITER + "\n")
    assert len(outputs) == len(blocks) + 1  # the last piece follows the final delimiter
    for index, ((code, expected), actual) in enumerate(zip(blocks, outputs, strict=False)):
        assert matches(expected, actual), (
            f"tour block {index + 1} printed:\n{actual}\nREADME shows:\n{expected}\n"
            f"code:\n{code}\nstderr:\n{result.stderr}"
        )
