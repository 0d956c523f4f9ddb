"""Turning what a visitor typed into HTML that is safe to show every other visitor.

Visitors write plain text with optional light markup. We keep a small allowlist of tags,
force safe link attributes and drop everything else (scripts, handlers, styles, unknown
URL schemes) with nh3, a maintained sanitizer (Rust's ammonia).
"""

from __future__ import annotations

import html

import nh3

_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "s", "code", "pre", "br", "p", "a",
                 "ul", "ol", "li", "blockquote"}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
_URL_SCHEMES = {"http", "https", "mailto"}


def render_comment_html(text: str) -> str:
    """Sanitized HTML for a comment: allowlisted markup kept, line breaks preserved."""
    cleaned = nh3.clean(
        text.replace("\r\n", "\n"),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
    )
    return cleaned.strip().replace("\n", "<br>")


def plain_name(text: str, max_chars: int | None = None) -> str:
    """A display name is text, never markup: tags stripped, white space collapsed.

    The result is plain text (`Tom & Jerry`, not `Tom &amp; Jerry`): clients show names as
    text, never as HTML. Cut to `max_chars` after unescaping, so no entity is cut in half.
    """
    name = " ".join(html.unescape(nh3.clean(text, tags=set())).split())
    return name if max_chars is None else name[:max_chars]


def plain_text(comment_html: str) -> str:
    """A comment's sanitized HTML as plain text, for exports people read (CSV, PDF).

    Line breaks and paragraphs become newlines, list items get a bullet; every tag is then
    dropped by the sanitizer (never by a regex, which markup can fool) and entities are
    unescaped, so `&lt;b&gt;` reads `<b>` and no markup survives.
    """
    marked = (comment_html.replace("<br>", "\n").replace("<br/>", "\n")
              .replace("</p>", "</p>\n").replace("<li>", "<li>• ").replace("</li>", "</li>\n"))
    text = html.unescape(nh3.clean(marked, tags=set()))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(lines).strip("\n")
