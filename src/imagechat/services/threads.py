"""Which channel a thread's events go on.

A thread is the set of comments at one urlId. When the urlId is a conversation's
`windowUrlId`, its events go on the channel of the conversation's image, so that everyone
looking at the image sees them on the one connection (one channel per image). Any other
thread (a page, an article, a thread whose conversation is not created yet) is a channel of
its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagechat.domain import rules
from imagechat.domain.models import Conversation
from imagechat.store import conversations
from imagechat.store.database import Connection


@dataclass(frozen=True, slots=True)
class ThreadChannel:
    url_id: str
    # The conversation whose thread this is, if any.
    conversation: Conversation | None

    @property
    def channel(self) -> str:
        return self.conversation.url_id if self.conversation is not None else self.url_id

    @property
    def chat_id(self) -> str | None:
        return self.conversation.id if self.conversation is not None else None


def thread_url_id(raw: Any) -> str:
    """Threads are urlIds like any other: cleaned by the same rule, so that the urlId a
    comment is posted at and the `windowUrlId` a conversation is created over agree."""
    return rules.clean_url_id(raw)


async def locate(conn: Connection, tenant_id: str, url_id: str) -> ThreadChannel:
    conversation = await conversations.by_window_url_id(conn, tenant_id, url_id)
    return ThreadChannel(url_id=url_id, conversation=conversation)
