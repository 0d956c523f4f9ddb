"""A comment as submitted, validated once, turned into a stored comment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput
from imagechat.domain.ids import hash_key, new_id
from imagechat.domain.models import Comment
from imagechat.domain.text import plain_name, render_comment_html
from imagechat.services.mentions import given_mentions
from imagechat.services.threads import ThreadChannel


@dataclass(slots=True)
class CommentDraft:
    text: Any
    commenter_name: Any = None
    url: Any = None
    parent_id: Any = None
    page_title: Any = None
    # When it was written (epoch ms): honoured for the site's backend only (an import of
    # older comments); a browser's clock is not the server's.
    date: Any = None
    # The reference's `mentions`, [{id, tag}]: users the writer picked from suggestions.
    mentions: Any = None
    # Filled by validate().
    clean_text: str = field(default="", init=False)
    clean_name: str | None = field(default=None, init=False)
    clean_url: str = field(default="", init=False)
    clean_parent_id: str | None = field(default=None, init=False)
    clean_page_title: str = field(default="", init=False)
    clean_date: int | None = field(default=None, init=False)
    clean_mentions: list[tuple[str, str | None]] = field(default_factory=list, init=False)

    def validate(self, actor: Actor) -> None:
        self.clean_text = rules.require_text(self.text, "comment", limits.MAX_COMMENT_CHARS)
        name = rules.optional_text(self.commenter_name, "commenterName", limits.MAX_NAME_CHARS)
        self.clean_name = plain_name(name, limits.MAX_NAME_CHARS) if name else None
        if not actor.is_signed_in and not actor.is_backend and not self.clean_name:
            raise BadInput("`commenterName` is required to comment without signing in.",
                           "missing-field")
        self.clean_url = rules.optional_text(self.url, "url", limits.MAX_URL_CHARS) or ""
        self.clean_parent_id = rules.optional_id(self.parent_id, "parentId")
        self.clean_page_title = rules.optional_text(
            self.page_title, "pageTitle", limits.MAX_PAGE_TITLE_CHARS) or ""
        self.clean_mentions = given_mentions(self.mentions)
        if actor.is_backend and self.date is not None:
            self.clean_date = rules.epoch_ms(self.date, "date")

    def name_for(self, actor: Actor) -> str:
        return actor.display_name or self.clean_name or "Anonymous"


def build_comment(
    draft: CommentDraft, actor: Actor, thread: ThreadChannel, now_ms: int, edit_key: str | None
) -> Comment:
    conversation = thread.conversation
    return Comment(
        id=new_id(), tenant_id=actor.tenant_id, url_id=thread.url_id,
        url=draft.clean_url or (conversation.page_url if conversation else None) or "",
        parent_id=draft.clean_parent_id, commenter_name=draft.name_for(actor),
        comment=draft.clean_text, comment_html=render_comment_html(draft.clean_text),
        user_id=actor.user_id, anon_user_id=actor.anon_user_id, avatar=actor.avatar,
        verified=actor.verified, approved=True, is_by_admin=actor.is_admin,
        is_by_moderator=actor.is_moderator, votes_up=0, votes_down=0,
        edit_key_hash=hash_key(edit_key) if edit_key else None,
        created_at=draft.clean_date or now_ms, updated_at=now_ms,
    )
