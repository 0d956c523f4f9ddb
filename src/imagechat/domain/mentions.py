"""Mentions in a comment: `@name` of a known user, found in the sanitized HTML's text.

They are looked for after sanitizing, in text only: a mention inside markup that the
sanitizer removed (a `<script>`, an attribute) mentions nobody and notifies nobody. Each
one found becomes `<span class="mention" data-user-id="…">@name</span>`; an `@word` that
names no known user stays plain text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from imagechat.domain.models import Mention

# Markup, or the text between: sanitized HTML is well formed, so this splits it cleanly.
_PARTS_RE = re.compile(r"(<[^>]*>)")
# The start of a name after `@`, to look known users up by (a prefix: the whole name,
# spaces and all, is matched against each candidate's own).
_WORD_RE = re.compile(r"@(\w[\w'\-]{0,63})")
# A comment names at most this many people (a bound on lookups, and on notifications).
MAX_MENTIONS = 20


def text_of(sanitized_html: str) -> str:
    """The visible text of sanitized HTML (what mentions are looked for in)."""
    return html.unescape("".join(p for p in _PARTS_RE.split(sanitized_html)
                                 if not p.startswith("<")))


def first_words(sanitized_html: str) -> list[str]:
    """The word after each `@` in the text: what to look known users up by."""
    found: list[str] = []
    for match in _WORD_RE.finditer(text_of(sanitized_html)):
        word = match.group(1)
        if word.casefold() not in (w.casefold() for w in found):
            found.append(word)
        if len(found) == MAX_MENTIONS:
            break
    return found


def wrap_mentions(sanitized_html: str, candidates: Iterable[Mention]
                  ) -> tuple[str, tuple[Mention, ...]]:
    """Wrap every occurrence of a candidate's tag in the text; returns the HTML and the
    mentions found, in order of first appearance (each user once). Where two candidates
    have the same tag, the first one given wins."""
    unique: dict[str, Mention] = {}
    for c in candidates:
        if c.tag.startswith("@") and len(c.tag) > 1:
            unique.setdefault(c.tag.casefold(), c)
    # Longest first: `@Ann Smith` is one mention, not `@Ann` followed by text.
    tags = sorted(unique.values(), key=lambda c: len(c.tag), reverse=True)
    if not tags:
        return sanitized_html, ()
    found: dict[str, Mention] = {}
    out: list[str] = []
    for part in _PARTS_RE.split(sanitized_html):
        if part.startswith("<") or "@" not in part:
            out.append(part)
            continue
        out.append(_wrap_text(html.unescape(part), tags, found))
    if not found:
        return sanitized_html, ()
    return "".join(out), tuple(found.values())


def _wrap_text(text: str, tags: list[Mention], found: dict[str, Mention]) -> str:
    pieces: list[str] = []
    plain_from = 0
    at = text.find("@")
    while at != -1:
        hit = next((m for m in tags if _named_at(text, at, m.tag)), None)
        if hit is None or (hit.id not in found and len(found) == MAX_MENTIONS):
            at = text.find("@", at + 1)
            continue
        pieces.append(html.escape(text[plain_from:at], quote=False))
        shown = text[at : at + len(hit.tag)]
        pieces.append(f'<span class="mention" data-user-id="{html.escape(hit.id)}">'
                      f"{html.escape(shown, quote=False)}</span>")
        found.setdefault(hit.id, hit)
        plain_from = at + len(hit.tag)
        at = text.find("@", plain_from)
    pieces.append(html.escape(text[plain_from:], quote=False))
    return "".join(pieces)


def _named_at(text: str, at: int, tag: str) -> bool:
    """`tag` starts at `at` (in any letter case), where a word starts, and ends where a
    word ends (so neither `ann@Bob.com` nor `@Bobby` is `@Bob`)."""
    if at > 0 and (text[at - 1].isalnum() or text[at - 1] == "_"):
        return False
    end = at + len(tag)
    if text[at:end].casefold() != tag.casefold():
        return False
    return end == len(text) or not (text[end].isalnum() or text[end] == "_")
