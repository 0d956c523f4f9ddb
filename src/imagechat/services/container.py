"""Every use case, built once per app over one database, clock and event sink."""

from __future__ import annotations

from dataclasses import dataclass

from imagechat.domain.clock import Clock
from imagechat.services.comments import CommentService
from imagechat.services.dashboard import DashboardService
from imagechat.services.history import HistoryService
from imagechat.services.image_chats import ImageChatService
from imagechat.services.moderation import ModerationService
from imagechat.services.notifications import NotificationService
from imagechat.services.pages import PageService
from imagechat.services.reactions import ReactionService
from imagechat.services.recorder import EventSink, Writer
from imagechat.services.tenants import TenantService
from imagechat.services.usage import UsageService
from imagechat.services.users import UserService
from imagechat.services.votes import VoteService
from imagechat.services.webhooks import WebhookService
from imagechat.store.database import Database


@dataclass(frozen=True, slots=True)
class Services:
    db: Database
    clock: Clock
    tenants: TenantService
    image_chats: ImageChatService
    comments: CommentService
    votes: VoteService
    history: HistoryService
    dashboard: DashboardService
    moderation: ModerationService
    pages: PageService
    reactions: ReactionService
    notifications: NotificationService
    users: UserService
    usage: UsageService
    webhooks: WebhookService
    # Opens every write transaction: `on_deliveries` wakes this node's outbox worker.
    writer: Writer


def build_services(db: Database, clock: Clock, sink: EventSink, *,
                   outbound_allow_private: bool = False,
                   outbox_lease_ms: int = 120_000) -> Services:
    writer = Writer(db, clock, sink)
    return Services(
        db=db, clock=clock, tenants=TenantService(db, clock),
        image_chats=ImageChatService(writer), comments=CommentService(writer),
        votes=VoteService(writer), history=HistoryService(db),
        dashboard=DashboardService(db, clock), moderation=ModerationService(writer),
        pages=PageService(db), reactions=ReactionService(writer),
        notifications=NotificationService(writer), users=UserService(db, clock),
        usage=UsageService(db),
        webhooks=WebhookService(writer, allow_private=outbound_allow_private,
                                lease_ms=outbox_lease_ms),
        writer=writer,
    )
