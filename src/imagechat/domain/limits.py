"""Input bounds. Each one protects storage and every viewer's screen from one bad writer."""

from __future__ import annotations

# An id we generate is 24 hex characters; foreign ids (SSO user ids, anonymous ids,
# broadcast ids) get room for UUIDs and prefixes but not for abuse.
MAX_ID_CHARS = 128
# A urlId is usually a page URL plus an image src; 1,000 covers real URLs.
MAX_URL_ID_CHARS = 1000
MAX_URL_ID_BYTES = 2000
MAX_URL_CHARS = 2000
MAX_PAGE_TITLE_CHARS = 300
MAX_NAME_CHARS = 100
# A chat message, not an essay: 5,000 characters is several screens on a phone.
MAX_COMMENT_CHARS = 5000
# The whole JSON body of one request; the largest legal body is well under this.
MAX_BODY_BYTES = 64 * 1024
# Comments returned per page of GET /comments.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Secure SSO tokens older than this are refused (the reference allows two days).
SSO_MAX_AGE_MS = 2 * 24 * 60 * 60 * 1000
# A little leeway for clocks of the site and of this server that disagree.
SSO_FUTURE_SKEW_MS = 60 * 1000
