"""Every use case, built once per app over one database, clock and event sink."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from imagechat.domain.clock import Clock
from imagechat.outbound.images import FetchLimits
from imagechat.services.annotations import AnnotationService
from imagechat.services.comments import CommentService
from imagechat.services.dashboard import DashboardService
from imagechat.services.history import HistoryService
from imagechat.services.image_chats import ImageChatService
from imagechat.services.image_export import ImageExportService
from imagechat.services.image_versions import ImageLimits, ImageVersionService
from imagechat.services.image_work import ImageWork
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
    # Opens every write transaction; where the app attaches what follows writes
    # (`on_deliveries` wakes the outbox worker, `on_notifications` plans email digests).
    writer: Writer
    tenants: TenantService
    image_chats: ImageChatService
    image_versions: ImageVersionService
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
    exports: ImageExportService
    # The W3C Web Annotation Protocol over image_chats and comments.
    annotations: AnnotationService


# What an app without settings (the CLI, tests) fetches images with: the settings' defaults.
DEFAULT_IMAGE_LIMITS = ImageLimits(
    fetch=FetchLimits(allow_private=False, max_bytes=20 * 1024 * 1024, timeout_secs=10.0),
    max_pixels=40_000_000, recheck_ms=300_000)


def build_services(db: Database, clock: Clock, sink: EventSink, *,
                   refused_tenants: Iterable[str] = (), outbound_allow_private: bool = False,
                   outbox_lease_ms: int = 120_000,
                   images: ImageLimits = DEFAULT_IMAGE_LIMITS) -> Services:
    """`refused_tenants`: ids answered as unknown whether or not they exist (the demo
    tenant, when the demo is switched off)."""
    writer = Writer(db, clock, sink)
    versions = ImageVersionService(writer, images, ImageWork())
    image_chats = ImageChatService(writer, versions)
    comments = CommentService(writer)
    annotations = AnnotationService(writer, image_chats, comments)
    return Services(
        db=db, clock=clock, writer=writer,
        tenants=TenantService(db, clock, refused=refused_tenants),
        image_chats=image_chats, image_versions=versions, comments=comments,
        votes=VoteService(writer), history=HistoryService(db),
        dashboard=DashboardService(db, clock), moderation=ModerationService(writer),
        pages=PageService(db), reactions=ReactionService(writer),
        notifications=NotificationService(writer), users=UserService(db, clock),
        usage=UsageService(db),
        webhooks=WebhookService(writer, allow_private=outbound_allow_private,
                                lease_ms=outbox_lease_ms),
        exports=ImageExportService(versions, annotations),
        annotations=annotations,
    )
