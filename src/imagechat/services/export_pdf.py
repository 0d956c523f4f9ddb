"""The PDF review report of an image, drawn with reportlab.

Page 1: the image's latest version with every conversation's numbered marker on it (and
its region's outline), so a printed page shows what each thread is about. Then each thread
in order: its number, place and state (open or resolved, and by whom), and every comment
with its author, date (UTC), reactions and text, replies indented under what they answer.

Text is set in DejaVu Sans, embedded, so Polish, Czech, Greek or Cyrillic comments print as
written; it is looked for where Linux distributions install it (Debian: fonts-dejavu-core).
Without it the report falls back to reportlab's own Vera, which covers western European
languages only (the log says so once). Emoji the font lacks are written as words.
"""

from __future__ import annotations

import html
import io
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

from imagechat.domain.errors import Unprocessable
from imagechat.domain.text import plain_text
from imagechat.imaging.decode import check_pixels
from imagechat.services.image_report import ImageReport, ReportThread, in_reply_order

log = logging.getLogger("imagechat.exports")

# The markers' colour: a magenta that mockups and screenshots rarely use, so a marker
# stands out on any image (and a test can find it by its pixels).
MARKER_RGB = (230, 0, 126)
# Regions' outlines: another colour than the markers', so the marker at a region's corner
# stays a marker.
REGION_RGB = (67, 56, 202)
MARKER = colors.Color(*(c / 255 for c in MARKER_RGB))
REGION = colors.Color(*(c / 255 for c in REGION_RGB))
MARKER_RADIUS_PT = 8.0
# The image is put in the PDF at most this many pixels on its long side: sharp in print
# at A4, and a bounded file whatever the original's size.
PICTURE_LONG_SIDE_PX = 2400
# A picture encoded as PNG (lossless: text in mockups stays crisp) up to this many bytes;
# past it (a photo) as JPEG.
PNG_MAX_BYTES = 3 * 1024 * 1024
MARGIN = 15 * mm

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
              "/usr/share/fonts/TTF", "/usr/local/share/fonts", "/usr/share/fonts/truetype")
REGULAR, BOLD = "ImageChatSans", "ImageChatSans-Bold"
_fonts_lock = threading.Lock()
_fonts_ready = False

# Reactions whose emoji a text font lacks, as words.
_EMOJI_WORDS = {"👍": "thumbs up", "❤️": "heart", "❤": "heart", "🎉": "hooray", "👀": "eyes",
                "✅": "done"}


def _font_files() -> tuple[Path, Path]:
    for folder in map(Path, _FONT_DIRS):
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    own = Path(reportlab.__file__).parent / "fonts"
    log.warning("DejaVu Sans not found (Debian: fonts-dejavu-core); review reports use Vera, "
                "which lacks letters of many languages")
    return own / "Vera.ttf", own / "VeraBd.ttf"


def register_fonts() -> None:
    global _fonts_ready
    with _fonts_lock:
        if _fonts_ready:
            return
        regular, bold = _font_files()
        pdfmetrics.registerFont(TTFont(REGULAR, str(regular)))
        pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                                      boldItalic=BOLD)
        _fonts_ready = True


def prepare_picture(data: bytes, max_pixels: int) -> bytes:
    """Fetched (or stored) image bytes as the PDF embeds them: checked like any image the
    server reads (pixels from the header first, 422), transparency over white, shrunk to
    `PICTURE_LONG_SIDE_PX`, PNG or JPEG. CPU work: run it off the event loop."""
    check_pixels(data, max_pixels)
    found = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if found is None or found.size == 0:
        raise Unprocessable("The image could not be decoded.", "image-undecodable")
    image = np.asarray(found)
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255 / max(1, int(image.max())))
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255
        image = (image[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    height, width = image.shape[:2]
    scale = PICTURE_LONG_SIDE_PX / max(width, height)
    if scale < 1:
        image = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", image)
    if ok and len(encoded) <= PNG_MAX_BYTES:
        return bytes(encoded.tobytes())
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise Unprocessable("The image could not be re-encoded.", "image-undecodable")
    return bytes(encoded.tobytes())


class MarkedImage(Flowable):
    """The image at the largest size that fits, with each conversation's region outline
    and numbered marker (at its point: a region's top-left corner)."""

    def __init__(self, picture: bytes, threads: list[ReportThread]) -> None:
        super().__init__()
        self.picture = ImageReader(io.BytesIO(picture))
        self.threads = threads

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        # What is left of page 1 under the heading, however many lines the heading took.
        pixel_width, pixel_height = self.picture.getSize()
        scale = min(available_width / pixel_width, available_height / pixel_height)
        self.width, self.height = pixel_width * scale, pixel_height * scale
        return self.width, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        canvas.drawImage(self.picture, 0, 0, self.width, self.height)
        canvas.setStrokeColor(colors.HexColor("#9ca3af"))
        canvas.setLineWidth(0.5)
        canvas.rect(0, 0, self.width, self.height)
        for thread in self.threads:
            place = thread.place
            x = place.x / 100 * self.width
            y = self.height - place.y / 100 * self.height  # PDF y grows upwards
            if place.region_w is not None and place.region_h is not None:
                w, h = place.region_w / 100 * self.width, place.region_h / 100 * self.height
                canvas.setStrokeColor(REGION)
                canvas.setFillColor(REGION, alpha=0.12)
                canvas.setLineWidth(1.5)
                canvas.rect(x, y - h, w, h, stroke=1, fill=1)
        for thread in self.threads:
            self._marker(canvas, thread)

    def _marker(self, canvas: Canvas, thread: ReportThread) -> None:
        x = thread.place.x / 100 * self.width
        y = self.height - thread.place.y / 100 * self.height
        canvas.setFillColor(MARKER, alpha=1)
        canvas.setStrokeColor(colors.white)
        canvas.setLineWidth(1.2)
        canvas.circle(x, y, MARKER_RADIUS_PT, stroke=1, fill=1)
        label = str(thread.number)
        size = 8.5 if len(label) < 3 else 6.5
        canvas.setFillColor(colors.white)
        canvas.setFont(BOLD, size)
        canvas.drawCentredString(x, y - size * 0.36, label)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=12.5)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=15, leading=19),
        "meta": ParagraphStyle("meta", parent=base, fontSize=8.5, leading=11,
                               textColor=colors.HexColor("#4b5563")),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=11,
                               textColor=colors.HexColor("#b45309")),
        "thread": ParagraphStyle("thread", parent=base, fontName=BOLD, fontSize=11.5,
                                 leading=15, spaceBefore=10),
        "author": ParagraphStyle("author", parent=base, fontName=BOLD, fontSize=9,
                                 spaceBefore=5),
        "body": base,
    }


def _text(value: str) -> str:
    """Plain text as reportlab's paragraph markup: escaped, line breaks kept."""
    return html.escape(value).replace("\n", "<br/>")


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _pct(value: float) -> str:
    return f"{value:.1f} %"


def _place_text(thread: ReportThread) -> str:
    p = thread.place
    if p.region_w is not None and p.region_h is not None:
        where = (f"Region at {_pct(p.x)}, {_pct(p.y)}, {_pct(p.region_w)} by "
                 f"{_pct(p.region_h)}")
    else:
        where = f"Point at {_pct(p.x)}, {_pct(p.y)}"
    if p.on_version is not None:
        where += f" of version {p.on_version}"
    if p.carry == "lost":
        where += " (lost in carry-over: shown where it was on the version before)"
    elif p.carry in ("same", "changed"):
        where += f" (carried over: {p.carry})"
    return where


def _has_glyphs(text: str) -> bool:
    font = pdfmetrics.getFont(REGULAR)
    face: Any = font.face if isinstance(font, TTFont) else None
    if face is None:
        return False
    return all(ord(ch) in face.charToGlyph for ch in text.replace("\ufe0f", ""))


def _reactions(counts: dict[str, int]) -> str:
    shown = []
    for emoji, n in sorted(counts.items()):
        name = emoji.replace("\ufe0f", "") if _has_glyphs(emoji) else _EMOJI_WORDS.get(
            emoji, emoji)
        shown.append(f"{name} {n}")
    return " · ".join(shown)


def _thread_flowables(thread: ReportThread, styles: dict[str, ParagraphStyle]) -> list[Any]:
    conversation = thread.place.conversation
    state = "Resolved" if conversation.resolved else "Open"
    if conversation.resolved and conversation.resolved_by:
        state += f" by {conversation.resolved_by}"
    if conversation.resolved and conversation.resolved_at:
        state += f", {_when(conversation.resolved_at)}"
    head = [Paragraph(f'<font color="#{_hex(MARKER_RGB)}">#{thread.number}</font> '
                      f"{_text(state)}", styles["thread"]),
            Paragraph(_text(_place_text(thread)), styles["meta"])]
    items: list[list[Any]] = []
    for depth, comment in in_reply_order(thread.comments):
        indent = min(depth, 6) * 14
        author = ParagraphStyle("a", parent=styles["author"], leftIndent=indent)
        body = ParagraphStyle("b", parent=styles["body"], leftIndent=indent)
        meta = ParagraphStyle("m", parent=styles["meta"], leftIndent=indent)
        role = " (moderator)" if comment.is_by_moderator else ""
        role = " (admin)" if comment.is_by_admin else role
        block = [Paragraph(f"{_text(comment.commenter_name)}{role} · "
                           f'<font name="{REGULAR}">{_when(comment.created_at)}</font>',
                           author),
                 Paragraph(_text(plain_text(comment.comment_html)) or "&nbsp;", body)]
        counts = thread.reactions.get(comment.id)
        if counts:
            block.append(Paragraph(_text(_reactions(counts)), meta))
        items.append(block)
    if not items:
        items.append([Paragraph("No comments.", styles["meta"])])
    # The heading never ends a page alone: it goes with the first comment.
    return [KeepTogether([*head, *items[0]]), *(KeepTogether(i) for i in items[1:])]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "".join(f"{c:02x}" for c in rgb)


def render(report: ImageReport) -> bytes:
    register_fonts()
    styles = _styles()
    picture = report.image.data if report.image else None
    wide = False
    if picture is not None:
        pixel_width, pixel_height = ImageReader(io.BytesIO(picture)).getSize()
        wide = pixel_width > pixel_height
    size = landscape(A4) if wide else A4
    out = io.BytesIO()
    title = f"Review report: {report.url_id}"
    doc = SimpleDocTemplate(out, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN, title=title,
                            author="ImageChat", creator="ImageChat", invariant=True)
    resolved = sum(t.place.conversation.resolved for t in report.threads)
    meta = [f"{len(report.threads)} conversations, {resolved} resolved"]
    if report.version is not None:
        meta.append(f"version {report.version}")
    meta.append(f"exported {_when(report.made_at_ms)}")
    story: list[Any] = [Paragraph(_text(title), styles["title"]),
                        Paragraph(_text(" · ".join(meta)), styles["meta"])]
    if report.image is not None and report.image.note:
        story.append(Paragraph(_text(report.image.note), styles["note"]))
    story.append(Spacer(1, 4 * mm))
    if picture is not None:
        story.append(MarkedImage(picture, report.threads))
    if report.threads:
        story.append(PageBreak())
    for thread in report.threads:
        story.extend(_thread_flowables(thread, styles))

    def footer(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(colors.HexColor("#6b7280"))
        canvas.drawString(MARGIN, MARGIN / 2, f"ImageChat · {report.url_id}"[:120])
        canvas.drawRightString(size[0] - MARGIN, MARGIN / 2, f"page {canvas.getPageNumber()}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
