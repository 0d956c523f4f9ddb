"""The widget's ES modules joined into the one classic script pages load, with no build step.

`web/widget/*.mjs` are ES modules: the browser tests load them joined, Node's test runner
imports them as they are. Pages keep one `<script src>` and may call `ImageChat(...)` on the
next line, which ES modules (always deferred) would not allow; so the server joins them when
the script is first asked for. Each module becomes a function whose result holds its exports,
called in import order, so a module's own names stay its own, as in ES modules.

The modules keep to what this joiner understands, and it refuses anything else:

- `import { a, b as c } from './name.mjs';` on one line;
- `export` only in front of `function`, `async function`, `class` or `const` (exports are
  read once, after the module ran: a `let` that changed later would not be seen);
- no template literals and no line continued with a backslash: whole-line comments, blank
  lines and indentation are left out of the served script (it stays about as small as the
  single file it replaced, while the sources keep their comments), which is only safe when
  no string spans lines.

What is served is that script minified by rjsmin (`minified`), which keeps strings and
regular expressions as they are and drops whitespace and the remaining comments.

`close-codes.mjs` is written from `imagechat.live.close_codes` by
`python -m imagechat.http.widget_bundle`; a unit test fails when the two differ.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import rjsmin

from imagechat.live.close_codes import CloseCode

WIDGET_DIR = Path(__file__).resolve().parent.parent / "web" / "widget"
ENTRY = "main.mjs"
CLOSE_CODES = "close-codes.mjs"

_IMPORT = re.compile(
    r"^import \{(?P<names>[\w\s,$]+)\} from '\./(?P<file>[\w.-]+\.mjs)';\s*$")
_EXPORT = re.compile(
    r"^export (?:async function\*?|function\*?|class|const) +(?P<name>[\w$]+)")
_EXPORT_ANY = re.compile(r"^\s*export\b")
_IMPORT_ANY = re.compile(r"^\s*import\b")
_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")


class BundleError(ValueError):
    """A module uses a form the joiner does not support, or the imports do not resolve."""


@dataclass(frozen=True)
class Module:
    file: str
    body: list[str]  # the source with its import lines replaced and `export ` removed
    imports: list[tuple[str, list[tuple[str, str]]]]  # (file, [(exported, local)])
    exports: list[str]


def parse(file: str, source: str) -> Module:
    body: list[str] = []
    imports: list[tuple[str, list[tuple[str, str]]]] = []
    exports: list[str] = []
    for number, raw in enumerate(source.splitlines(), 1):
        where = f"{file}:{number}"
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if "`" in line.split(" // ", 1)[0] or line.endswith("\\"):
            raise BundleError(f"{where}: no template literals or continued lines, please")
        found = _IMPORT.match(line)
        if found:
            names = _import_names(found["names"], where)
            imports.append((found["file"], names))
            body.append(_destructure(found["file"], names))
            continue
        if _IMPORT_ANY.match(line):
            raise BundleError(f"{where}: write imports as `import {{ a, b }} from './x.mjs';`")
        exported = _EXPORT.match(line)
        if exported:
            exports.append(exported["name"])
            body.append(line[len("export "):])
            continue
        if _EXPORT_ANY.match(line):
            raise BundleError(f"{where}: only `export function|class|const NAME` is supported")
        body.append(line)
    if len(set(exports)) != len(exports):
        raise BundleError(f"{file}: a name is exported twice")
    return Module(file, body, imports, exports)


def _import_names(raw: str, where: str) -> list[tuple[str, str]]:
    names: list[tuple[str, str]] = []
    for part in raw.split(","):
        words = part.split()
        if not words:
            continue
        if len(words) == 1:
            exported = local = words[0]
        elif len(words) == 3 and words[1] == "as":
            exported, local = words[0], words[2]
        else:
            raise BundleError(f"{where}: cannot read the import {part.strip()!r}")
        if not (_NAME.match(exported) and _NAME.match(local)):
            raise BundleError(f"{where}: cannot read the import {part.strip()!r}")
        names.append((exported, local))
    return names


def _var(file: str) -> str:
    return "__imagechat_" + re.sub(r"\W", "_", file.removesuffix(".mjs"))


def _destructure(file: str, names: list[tuple[str, str]]) -> str:
    fields = ", ".join(e if e == local else f"{e}: {local}" for e, local in names)
    return f"const {{ {fields} }} = {_var(file)};"


def _order(modules: dict[str, Module], entry: str) -> list[str]:
    """Every module after the modules it imports; an import circle is refused."""
    done: list[str] = []
    visiting: list[str] = []

    def visit(file: str) -> None:
        if file in done:
            return
        if file in visiting:
            circle = " -> ".join([*visiting[visiting.index(file):], file])
            raise BundleError(f"import circle: {circle}")
        if file not in modules:
            raise BundleError(f"no module {file} (imported by {visiting[-1]})")
        visiting.append(file)
        for imported, names in modules[file].imports:
            visit(imported)
            missing = [e for e, _ in names if e not in modules[imported].exports]
            if missing:
                raise BundleError(f"{file}: {imported} does not export {', '.join(missing)}")
        visiting.pop()
        done.append(file)

    visit(entry)
    return done


def join(directory: Path = WIDGET_DIR, entry: str = ENTRY) -> str:
    """The classic script: every module the entry needs, each in its own function scope."""
    modules = {p.name: parse(p.name, p.read_text(encoding="utf-8"))
               for p in sorted(directory.glob("*.mjs"))}
    if entry not in modules:
        raise BundleError(f"no entry module {entry} in {directory}")
    parts = [
        "/*! ImageChat widget: markers and live conversations on any image. Joined by the",
        " * server from web/widget/*.mjs (see imagechat/http/widget_bundle.py). */",
        "(function () {",
        "'use strict';",
    ]
    for file in _order(modules, entry):
        module = modules[file]
        parts.append(f"// ---- {file}")
        parts.append(f"const {_var(file)} = (function () {{")
        parts.extend(module.body)
        parts.append(f"return {{ {', '.join(module.exports)} }};")
        parts.append("})();")
    parts.append("})();")
    return "\n".join(parts) + "\n"


def minified(directory: Path = WIDGET_DIR, entry: str = ENTRY) -> str:
    """The joined script, minified; its `/*!` notice is kept."""
    result: str = rjsmin.jsmin(join(directory, entry), keep_bang_comments=True)
    return result


def close_codes_module() -> str:
    """`close-codes.mjs` as generated from the server's CloseCode."""
    lines = [
        "// Generated from src/imagechat/live/close_codes.py by",
        "// `python -m imagechat.http.widget_bundle`: do not edit. What each code means and",
        "// what a client should do is in docs/protocol.md (\"Close codes\").",
        "export const CLOSE = Object.freeze({",
    ]
    lines += [f"  {code.name}: {code.value}," for code in CloseCode]
    lines.append("});")
    return "\n".join(lines) + "\n"


def main() -> None:
    path = WIDGET_DIR / CLOSE_CODES
    path.write_text(close_codes_module(), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
