"""The tenant dashboard (/dashboard): server-rendered pages for a site's admins.

Usage charts, the site's images with their conversations, its pages with their comments,
moderation, email (the addresses that bounced) and webhooks. Not part of the API, so not
in the OpenAPI document; see README "Dashboard".
"""

from __future__ import annotations

from fastapi import APIRouter

from imagechat.http.dashboard import (
    email,
    exports,
    images,
    moderation,
    pages,
    review,
    signin,
    static,
    usage,
    webhooks,
)

router = APIRouter(include_in_schema=False)
for _module in (signin, usage, images, exports, review, pages, moderation, email, webhooks, static):
    router.include_router(_module.router)
