"""The widget's modules joined into one script, and its close codes kept to the server's."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from imagechat.http import widget, widget_bundle
from imagechat.http.widget_bundle import BundleError, join, minified, parse
from imagechat.live.close_codes import CloseCode


def node() -> str:
    path = shutil.which("node")
    if not path:
        if os.environ.get("CI"):
            raise RuntimeError("Node.js is required under CI")
        pytest.skip("Node.js is not installed")
    return path


def run_script(script: str, then: str) -> object:
    """Run a joined script in Node with a bare `window`, then evaluate `then` (JSON out)."""
    program = ("const vm = require('node:vm'); const fs = require('node:fs');"
               "const context = { console, location: { origin: 'https://site.test',"
               " href: 'https://site.test/' }, document: { currentScript: null } };"
               "context.window = context; vm.createContext(context);"
               "vm.runInContext(fs.readFileSync(0, 'utf8'), context);"
               f"const out = vm.runInContext({json.dumps(then)}, context);"
               "process.stdout.write(JSON.stringify(out));")
    done = subprocess.run([node(), "-e", program], input=script, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_close_codes_module_is_generated_from_the_server_enum(tmp_path: Path) -> None:
    on_disk = (widget_bundle.WIDGET_DIR / widget_bundle.CLOSE_CODES).read_text()
    assert on_disk == widget_bundle.close_codes_module(), (
        "close-codes.mjs is stale: run `.venv/bin/python -m imagechat.http.widget_bundle`")
    write(tmp_path, {widget_bundle.CLOSE_CODES: on_disk,
                     "main.mjs": "import { CLOSE } from './close-codes.mjs';\n"
                                 "window.codes = CLOSE;\n"})
    codes = run_script(join(tmp_path), "window.codes")
    assert codes == {code.name: code.value for code in CloseCode}


def test_modules_run_in_import_order_each_in_its_own_scope(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.mjs": "import { shout as loud } from './words.mjs';\n"
                    "import { order } from './log.mjs';\n"
                    "const secret = 'main';\n"
                    "order.push('main');\n"
                    "window.result = { said: loud('hi'), order, secret };\n",
        "words.mjs": "import { order } from './log.mjs';\n"
                     "// a comment line, left out of the script\n"
                     "const secret = 'words';\n"
                     "order.push('words');\n"
                     "export function shout(text) { return text.toUpperCase() + '!'; }\n",
        "log.mjs": "export const order = [];\n",
    })
    script = join(tmp_path)
    assert "a comment line" not in script
    assert run_script(script, "window.result") == {
        "said": "HI!", "order": ["words", "main"], "secret": "main"}


@pytest.mark.parametrize(("source", "problem"), [
    ("export let count = 0;\n", "only `export function|class|const NAME`"),
    ("export default function () {}\n", "only `export function|class|const NAME`"),
    ("import * as all from './b.mjs';\n", "write imports as"),
    ("const t = `${a} b`;\n", "no template literals"),
    ("const s = 'one \\\n two';\n", "no template literals or continued lines"),
])
def test_forms_the_joiner_cannot_keep_are_refused(source: str, problem: str) -> None:
    with pytest.raises(BundleError, match=re.escape(problem)):
        parse("a.mjs", source)


def test_import_circles_and_missing_names_are_refused(tmp_path: Path) -> None:
    write(tmp_path, {"main.mjs": "import { b } from './b.mjs';\n",
                     "b.mjs": "import { c } from './main.mjs';\nexport const b = 1;\n"})
    circle = "import circle: main.mjs -> b.mjs -> main.mjs"
    with pytest.raises(BundleError, match=re.escape(circle)):
        join(tmp_path)
    write(tmp_path, {"b.mjs": "export const a = 1;\n"})
    with pytest.raises(BundleError, match=re.escape("b.mjs does not export b")):
        join(tmp_path)
    write(tmp_path, {"main.mjs": "import { x } from './nowhere.mjs';\n"})
    with pytest.raises(BundleError, match=r"no module nowhere\.mjs"):
        join(tmp_path)


def test_the_widget_defines_its_public_names() -> None:
    names = run_script(join(), "[typeof window.ImageChat, "
                               "window.FastCommentsImageChat === window.ImageChat]")
    assert names == ["function", True]


def test_the_minified_widget_still_defines_its_public_names() -> None:
    script = minified()
    assert len(script) < len(join()) and script.startswith("/*! ImageChat widget")
    names = run_script(script, "[typeof window.ImageChat, "
                               "window.FastCommentsImageChat === window.ImageChat]")
    assert names == ["function", True]


async def test_the_script_is_served_joined_and_minified_with_an_etag() -> None:
    app = FastAPI()
    app.include_router(widget.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as client:
        first = await client.get("/js/embed-image-chat.min.js")
        assert first.status_code == 200
        assert first.headers["content-type"] == "text/javascript; charset=utf-8"
        assert first.text == minified()
        etag = first.headers["etag"]
        again = await client.get("/js/embed-image-chat.min.js", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
