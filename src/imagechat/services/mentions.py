"""Finding whom a comment mentions: the users it names, among the tenant's known users."""

from __future__ import annotations

from collections import Counter
from typing import Any

from imagechat.domain import limits, rules
from imagechat.domain.errors import BadInput
from imagechat.domain.mentions import MAX_MENTIONS, first_words, wrap_mentions
from imagechat.domain.models import Mention
from imagechat.store import users
from imagechat.store.database import Connection

# Known users looked at per `@word` of a comment.
_CANDIDATES_PER_WORD = 20


def given_mentions(value: Any) -> list[tuple[str, str | None]]:
    """The reference's `mentions` of a request body, [{id, tag}], checked for shape."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_MENTIONS:
        raise BadInput(f"`mentions` must be a list of at most {MAX_MENTIONS} {{id, tag}}.",
                       "invalid-mentions")
    found: list[tuple[str, str | None]] = []
    for item in value:
        if not isinstance(item, dict):
            raise BadInput("Each of `mentions` must be an object {id, tag}.", "invalid-mentions")
        user_id = rules.require_id(item.get("id"), "mentions.id")
        tag = rules.optional_text(item.get("tag"), "mentions.tag", limits.MAX_NAME_CHARS + 1)
        found.append((user_id, tag))
    return found


async def resolve(
    conn: Connection, tenant_id: str, sanitized_html: str,
    given: list[tuple[str, str | None]],
) -> tuple[str, tuple[Mention, ...]]:
    """The comment's HTML with its mentions wrapped, and the mentions found in it.

    A mention the client picked (`given`) counts where its tag appears; besides, any
    `@name` of a known user counts, unless two known users share that name.
    """
    if "@" not in sanitized_html:
        return sanitized_html, ()
    picked = await users.known(conn, tenant_id, [user_id for user_id, _ in given])
    explicit: list[Mention] = []
    for user_id, tag in given:
        user = picked.get(user_id)
        if user is None:
            continue  # not a user of this tenant: nobody to mention
        if tag and tag.startswith("@"):
            explicit.append(Mention(user_id, tag))
        if user.display_name:
            explicit.append(Mention(user_id, f"@{user.display_name}"))
    named: list[Mention] = []
    for word in first_words(sanitized_html):
        for user in await users.search(conn, tenant_id, word, _CANDIDATES_PER_WORD):
            if user.display_name:
                named.append(Mention(user.id, f"@{user.display_name}"))
    shared = Counter(m.tag.casefold() for m in {(m.id, m.tag.casefold()): m
                                                for m in named}.values())
    unambiguous = [m for m in named if shared[m.tag.casefold()] == 1]
    # Where a tag is both, the user the client picked wins.
    return wrap_mentions(sanitized_html, [*explicit, *unambiguous])
