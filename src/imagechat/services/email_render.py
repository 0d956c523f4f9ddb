"""An email digest as a message: plain text and HTML (no remote assets, so nothing is
fetched when it is opened), in the user's language, quoting each message and linking back
to its page with the conversation open (`#imagechat=<chatId>`, which the widget opens)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from imagechat.auth.origins import origin_allowed
from imagechat.domain.models import Notification, Tenant
from imagechat.services.email_strings import language, strings

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "web" / "email"),
    autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
# The fragment the widget looks for to open a conversation.
FRAGMENT = "imagechat="
_SPACES = re.compile(r"\s+")


def one_line(text: str, max_chars: int = 200) -> str:
    """Text fit for a header or a heading: no line breaks, bounded."""
    return _SPACES.sub(" ", text).strip()[:max_chars]


def link_back(tenant: Tenant, notification: Notification) -> str | None:
    """The comment's page with its conversation open; None when the page address is not
    one to send people to (not http(s), or outside the site's allowed origins: a visitor
    chooses the page address their comment names, and the email must not lead elsewhere)."""
    try:
        parts = urlsplit(notification.url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if not origin_allowed(tenant, f"{parts.scheme}://{parts.netloc}"):
        return None
    fragment = f"{FRAGMENT}{notification.chat_id}" if notification.chat_id else parts.fragment
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, fragment))


@dataclass(frozen=True, slots=True)
class Item:
    line: str
    quote: str
    link: str | None


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    lang: str


def render(tenant: Tenant, notifications: list[Notification], *, more: int,
           recipient_name: str | None, locale: str | None, unsubscribe: str) -> Rendered:
    t = strings(locale)
    site = one_line(tenant.name, 100)
    items = [Item(line=t[n.kind].format(name=one_line(n.from_name, 100) or "?",
                                        page=one_line(n.page_title, 150) or site),
                  quote=n.context.strip(), link=link_back(tenant, n)) for n in notifications]
    if len(notifications) == 1 and not more:
        only = notifications[0]
        subject = t[f"subject_{only.kind}"].format(name=one_line(only.from_name, 100) or "?",
                                                   site=site)
    else:
        subject = t["subject_many"].format(count=len(notifications) + more, site=site)
    name = one_line(recipient_name or "", 100)
    greeting = t["greeting"].format(name=name) if name else t["greeting_anonymous"]
    more_line = t["more"].format(count=more) if more else ""
    why = t["why"].format(site=site)
    text = [greeting, ""]
    for item in items:
        text.append(item.line)
        text.extend(f"> {line}" for line in item.quote.splitlines() or [""])
        if item.link:
            text.append(f"{t['open']}: {item.link}")
        text.append("")
    if more_line:
        text += [more_line, ""]
    text += ["-- ", why, f"{t['unsubscribe']}: {unsubscribe}", ""]
    html = TEMPLATES.get_template("digest.html").render(
        lang=language(locale), subject=one_line(subject), greeting=greeting, items=items,
        more=more_line, open=t["open"], why=why, unsubscribe=unsubscribe,
        unsubscribe_label=t["unsubscribe"])
    return Rendered(subject=one_line(subject, 250), text="\n".join(text), html=html,
                    lang=language(locale))


def message(rendered: Rendered, *, sender: str, to_name: str | None, to_address: str,
            message_id: str, unsubscribe: str, now_ms: int) -> EmailMessage:
    """The MIME message; raises ValueError for an address that cannot be written."""
    if "\r" in to_address or "\n" in to_address:
        raise ValueError("an address has no line breaks")
    msg = EmailMessage()
    msg["From"] = sender
    try:
        msg["To"] = Address(display_name=one_line(to_name or "", 100), addr_spec=to_address)
    except (IndexError, TypeError, ValueError) as exc:
        raise ValueError("the address cannot be written in a header") from exc
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(now_ms / 1000, usegmt=True)
    msg["Message-ID"] = message_id
    # RFC 8058: mail clients offer an unsubscribe button that POSTs to this link.
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # RFC 3834: automatic mail, to which no vacation responder should answer.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    # After the content: setting it clears every Content-* header.
    msg["Content-Language"] = rendered.lang
    return msg
