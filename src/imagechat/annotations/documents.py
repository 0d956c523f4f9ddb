"""An image's conversations and comments as Web Annotations (JSON-LD).

Each conversation is an Annotation (`motivation: commenting`) whose target is the image
with Media Fragments selectors and whose body is its first comment; each later comment of
its thread is an Annotation (`motivation: replying`) that targets what it answers. A
comment on the whole image (a thread at the image's own urlId) is an Annotation without a
selector. What a client gave (canonical, via, creators, more bodies, more targets) is kept
and served back, merged with what the server manages: the IRIs, the types, the current
place and text, `modified` (docs/annotations.md, "Mapping").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from imagechat.annotations.iris import Iris
from imagechat.annotations.selectors import ImageSize, fragment_selectors
from imagechat.annotations.vocabulary import ANNO_CONTEXT, COMMENTING, LDP_CONTEXT, REPLYING
from imagechat.domain.clock import iso_from_ms
from imagechat.domain.models import Comment, Positioned
from imagechat.domain.regions import Place


@dataclass(frozen=True, slots=True)
class AnnotationThread:
    """One annotation and its replies: a conversation (on its place) and its thread, or a
    comment on the whole image and the comments under it."""

    root_id: str
    # None: a comment on the whole image (or another resource): no selector, no marker.
    placed: Positioned | None
    # Oldest first. A conversation's first comment is its body; a whole-image
    # annotation's comment comes first.
    comments: list[Comment]

    @property
    def first(self) -> Comment | None:
        return self.comments[0] if self.comments else None

    @property
    def replies(self) -> list[Comment]:
        return self.comments[1:]


@dataclass(frozen=True, slots=True)
class AnnotatedImage:
    url_id: str
    # The latest version's address and natural size, when known.
    src: str | None
    size: ImageSize | None
    threads: list[AnnotationThread]
    # What clients gave, by conversation or comment id.
    documents: Mapping[str, Mapping[str, Any]]


def etag(document: Mapping[str, Any]) -> str:
    """A strong validator of one representation (keys sorted, so it is stable)."""
    digest = hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f'"{digest[:32]}"'


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_text(body: Any) -> bool:
    return isinstance(body, dict) and body.get("type", "TextualBody") == "TextualBody" \
        and "value" in body


def _bodies(doc: dict[str, Any], comment: Comment | None) -> None:
    """The comment's current text as the first TextualBody (or `bodyValue`), the client's
    other bodies as they were."""
    if comment is None:
        return
    if "bodyValue" in doc and "body" not in doc:
        doc["bodyValue"] = comment.comment
        return
    bodies = _as_list(doc.get("body"))
    for index, body in enumerate(bodies):
        if _is_text(body):
            bodies[index] = {**body, "value": comment.comment}
            break
    else:
        bodies.insert(0, {"type": "TextualBody", "value": comment.comment,
                          "format": "text/plain", "purpose": COMMENTING})
    doc["body"] = bodies if len(bodies) != 1 else bodies[0]


def _creator(doc: dict[str, Any], name: str | None) -> None:
    if "creator" not in doc and name:
        doc["creator"] = {"type": "Person", "name": name}


def _placed_target(stored: Any, source: str, place: Place, size: ImageSize | None) -> Any:
    """The client's targets with the placed one (the first with a selector, else the
    first) rewritten to where the conversation is now."""
    targets = _as_list(stored)
    index = next((i for i, t in enumerate(targets)
                  if isinstance(t, dict) and t.get("selector")), 0)
    base = targets[index] if targets and isinstance(targets[index], dict) else {}
    extra = {k: v for k, v in base.items() if k not in ("source", "selector", "type", "id")}
    selectors = fragment_selectors(place, size)
    target = {**extra, "type": "SpecificResource", "source": source,
              "selector": selectors if len(selectors) > 1 else selectors[0]}
    if len(targets) <= 1:
        return target
    return [target if i == index else t for i, t in enumerate(targets)]


def _envelope(stored: Mapping[str, Any], iri: str, motivation: str, created: int,
              modified: int) -> dict[str, Any]:
    doc = {"@context": ANNO_CONTEXT, "id": iri, "type": "Annotation",
           **{k: v for k, v in stored.items() if k not in ("@context", "id", "type")}}
    given = doc.get("motivation")
    if motivation == REPLYING or given is None or REPLYING in _as_list(given):
        doc["motivation"] = motivation
    doc.setdefault("created", iso_from_ms(created))
    doc["modified"] = iso_from_ms(modified)
    return doc


def root_annotation(iris: Iris, image: AnnotatedImage, thread: AnnotationThread
                    ) -> dict[str, Any]:
    stored = image.documents.get(thread.root_id, {})
    first = thread.first
    if thread.placed is None:
        assert first is not None, "a whole-image annotation is its comment"
        doc = _envelope(stored, iris.annotation(thread.root_id), COMMENTING,
                        first.created_at, first.updated_at)
        doc.setdefault("target", image.src or image.url_id)
        _creator(doc, first.commenter_name)
    else:
        conversation = thread.placed.conversation
        modified = max(conversation.updated_at, first.updated_at if first else 0)
        doc = _envelope(stored, iris.annotation(thread.root_id), COMMENTING,
                        conversation.created_at, modified)
        placed = Place(thread.placed.x, thread.placed.y, thread.placed.region_w,
                       thread.placed.region_h)
        doc["target"] = _placed_target(stored.get("target"),
                                       conversation.src or image.src or image.url_id, placed,
                                       image.size)
        _creator(doc, conversation.commenter_name or (first.commenter_name if first else None))
    _bodies(doc, first)
    return doc


def _parent_iri(iris: Iris, thread: AnnotationThread, comment: Comment) -> str:
    first = thread.first
    known = {c.id for c in thread.replies}
    if comment.parent_id is None or first is None or comment.parent_id == first.id \
            or comment.parent_id not in known:
        return iris.annotation(thread.root_id)
    return iris.reply(thread.root_id, comment.parent_id)


def reply_annotation(iris: Iris, image: AnnotatedImage, thread: AnnotationThread,
                     comment: Comment) -> dict[str, Any]:
    stored = image.documents.get(comment.id, {})
    doc = _envelope(stored, iris.reply(thread.root_id, comment.id), REPLYING,
                    comment.created_at, comment.updated_at)
    doc["target"] = _parent_iri(iris, thread, comment)
    _creator(doc, comment.commenter_name)
    _bodies(doc, comment)
    return doc


def all_annotations(iris: Iris, image: AnnotatedImage) -> list[dict[str, Any]]:
    """Every annotation of the image: each conversation (or whole-image comment), then its
    replies, oldest first."""
    found: list[dict[str, Any]] = []
    for thread in image.threads:
        found.append(root_annotation(iris, image, thread))
        found.extend(reply_annotation(iris, image, thread, c) for c in thread.replies)
    return found


def find(iris: Iris, image: AnnotatedImage, root_id: str, reply_id: str | None
         ) -> dict[str, Any] | None:
    for thread in image.threads:
        if thread.root_id != root_id:
            continue
        if reply_id is None:
            return root_annotation(iris, image, thread)
        for comment in thread.replies:
            if comment.id == reply_id:
                return reply_annotation(iris, image, thread, comment)
    return None


def thread_of(image: AnnotatedImage, root_id: str) -> AnnotationThread | None:
    return next((t for t in image.threads if t.root_id == root_id), None)


def _modified(items: list[dict[str, Any]]) -> str | None:
    return max((str(item["modified"]) for item in items), default=None)


def _page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def page(iris: Iris, image: AnnotatedImage, number: int, *, iris_only: bool,
         page_size: int, items: list[dict[str, Any]] | None = None,
         embedded: bool = False) -> dict[str, Any] | None:
    """One AnnotationPage (None past the last): `page_size` annotations from
    `number * page_size`, described in full or by IRI."""
    items = all_annotations(iris, image) if items is None else items
    last = _page_count(len(items), page_size) - 1
    if number < 0 or number > last:
        return None
    start = number * page_size
    chunk = items[start:start + page_size]
    found: dict[str, Any] = {} if embedded else {"@context": ANNO_CONTEXT}
    found.update({
        "id": iris.page(number, iris_only), "type": "AnnotationPage",
        "partOf": {"id": iris.container, "total": len(items),
                   "first": iris.page(0, iris_only), "last": iris.page(last, iris_only)},
        "startIndex": start,
        "items": [item["id"] for item in chunk] if iris_only else chunk,
    })
    if (modified := _modified(items)) is not None:
        found["partOf"]["modified"] = modified
    if number < last:
        found["next"] = iris.page(number + 1, iris_only)
    if number > 0:
        found["prev"] = iris.page(number - 1, iris_only)
    return found


def container(iris: Iris, image: AnnotatedImage, *, minimal: bool, iris_only: bool,
              page_size: int) -> dict[str, Any]:
    """The image's LDP BasicContainer, also an AnnotationCollection: its total, and its
    first page embedded (unless the client prefers a minimal container)."""
    items = all_annotations(iris, image)
    last = _page_count(len(items), page_size) - 1
    found: dict[str, Any] = {
        "@context": [ANNO_CONTEXT, LDP_CONTEXT],
        "id": iris.container,
        "type": ["BasicContainer", "AnnotationCollection"],
        "label": f"Annotations on {image.url_id}",
        "total": len(items),
    }
    if (modified := _modified(items)) is not None:
        found["modified"] = modified
    if items:
        found["first"] = (iris.page(0, iris_only) if minimal else
                          page(iris, image, 0, iris_only=iris_only, page_size=page_size,
                               items=items, embedded=True))
        found["last"] = iris.page(last, iris_only)
    return found


def collection(iris: Iris, image: AnnotatedImage) -> dict[str, Any]:
    """The image's whole AnnotationCollection, every annotation embedded in one page:
    what an export of the image writes (it needs no further request to read)."""
    items = all_annotations(iris, image)
    found = container(iris, image, minimal=False, iris_only=False,
                      page_size=max(1, len(items)))
    found["@context"] = ANNO_CONTEXT
    found["type"] = "AnnotationCollection"
    return found
