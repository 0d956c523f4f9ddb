"""Issue 15, point 3: `imagechat export` and `imagechat import` keep memory flat.

Generates tenants of growing size on SQLite (tests/archive_data.py: a row in every table
the archive holds, 14 records per conversation), then runs `imagechat export` and
`imagechat import` (into a new database) on each as their own processes and reports their
peak resident memory (VmHWM), time and the archive's size. Flat memory: the peak
stays the same whatever the size, because rows stream through in batches.

Run: `.venv/bin/python -m bench.archive_memory` (about 2 minutes;
`--sizes 500,2000` for less).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.archive_data import fill

# Runs one `imagechat` command in this child process and prints its peak memory (KiB) last:
# VmHWM, the peak of this process's own memory since exec. (ru_maxrss would not do: Linux
# carries it over from the parent through fork and exec, and the parent holds the
# generated rows.)
_MEASURED = """
import sys
from imagechat.cli import main
sys.argv = ["imagechat", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print("peak", peak, file=sys.stderr)
sys.exit(code)
"""


def measured(*args: str) -> tuple[float, float]:
    """(seconds, peak MiB) of one imagechat command in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURED, *args], capture_output=True,
                          text=True, check=False, timeout=1800)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"imagechat {' '.join(args)} failed: {done.stderr[-2000:]}")
    kib = int(done.stderr.strip().splitlines()[-1].split()[1])
    return seconds, kib / 1024


def one_size(workdir: Path, conversations: int) -> dict[str, Any]:
    source = f"sqlite+aiosqlite:///{workdir / f'src-{conversations}.db'}"
    target = f"sqlite+aiosqlite:///{workdir / f'dst-{conversations}.db'}"
    archive = workdir / f"archive-{conversations}.jsonl"
    measured("migrate", "--database-url", source)
    asyncio.run(fill(source, "bench", conversations))
    export_secs, export_mib = measured("export", str(archive), "--database-url", source)
    import_secs, import_mib = measured("import", str(archive), "--database-url", target)
    records = sum(1 for _ in archive.open(encoding="utf-8")) - 1
    return {"conversations": conversations, "records": records,
            "archive_mib": round(archive.stat().st_size / 2**20, 1),
            "export_secs": round(export_secs, 1), "export_peak_mib": round(export_mib, 1),
            "import_secs": round(import_secs, 1), "import_peak_mib": round(import_mib, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,8000",
                        help="conversations per generated tenant, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="imagechat-archive-bench-") as tmp:
        for size in (int(s) for s in options.sizes.split(",")):
            rows.append(one_size(Path(tmp), size))
            print(json.dumps(rows[-1]), flush=True)
    print(f"{'conversations':>13} {'records':>8} {'archive MiB':>11} {'export s':>8} "
          f"{'export peak MiB':>15} {'import s':>8} {'import peak MiB':>15}")
    for r in rows:
        print(f"{r['conversations']:>13} {r['records']:>8} {r['archive_mib']:>11} "
              f"{r['export_secs']:>8} {r['export_peak_mib']:>15} {r['import_secs']:>8} "
              f"{r['import_peak_mib']:>15}")
    if options.json:
        options.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
