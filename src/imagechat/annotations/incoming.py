"""What a client POSTs or PUTs: checked as a Web Annotation and read into what ImageChat
makes of it (a conversation with its first comment, a comment on the whole image, or a
reply), with the document to keep.

The document is kept as the client sent it, less what the server manages (`@context`,
`id`, `type`); an `id` the client gave moves to `via` (the protocol: the server assigns
the IRI, and the old one stays known).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagechat.annotations.selectors import Fragment, parse_xywh
from imagechat.annotations.vocabulary import ANNO_CONTEXT, MEDIA_FRAGMENTS, REPLYING
from imagechat.domain.errors import BadInput

# Properties the server sets on every annotation it serves.
MANAGED = frozenset({"@context", "id", "type"})


@dataclass(frozen=True, slots=True)
class Incoming:
    # What to keep: the client's properties, merged with the server's when served.
    document: dict[str, Any]
    # The IRI of the annotation it replies to (motivation `replying`).
    reply_to: str | None
    # Where on the image, as written; None: the whole image or another resource.
    fragment: Fragment | None
    # The target's `source`, when it has one (the image's address).
    source: str | None
    # The first TextualBody's value (or `bodyValue`): the comment.
    text: str | None
    # The creator's name, when it has one.
    creator_name: str | None


def keep_identity(stored: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The new state of an annotation keeps its `canonical` and `via` once set (the
    protocol: a server should refuse to change them); left out, they stay."""
    kept = dict(document)
    for key in ("canonical", "via"):
        if key not in stored:
            continue
        if key in kept and kept[key] != stored[key]:
            raise _bad(f"`{key}` cannot change once it is set.", f"{key}-changed")
        kept[key] = stored[key]
    return kept


def _bad(reason: str, code: str = "invalid-annotation") -> BadInput:
    return BadInput(reason, code)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _check_envelope(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise _bad("The body must be one JSON-LD object: a Web Annotation.")
    contexts = _as_list(doc.get("@context"))
    if ANNO_CONTEXT not in contexts:
        raise _bad(f'A Web Annotation needs "@context": "{ANNO_CONTEXT}".', "context-missing")
    if "Annotation" not in _as_list(doc.get("type")):
        raise _bad('A Web Annotation needs "type": "Annotation".', "type-missing")
    if "target" not in doc or not _as_list(doc.get("target")):
        raise _bad("A Web Annotation needs a `target`.", "target-missing")
    return doc


def _iri_of(target: Any) -> str | None:
    if isinstance(target, str):
        return target
    if isinstance(target, dict):
        for key in ("source", "id"):
            if isinstance(target.get(key), str):
                return str(target[key])
    return None


def _fragment_of(target: Any) -> Fragment | None:
    """The place a target names: its FragmentSelector, or a `#xywh=` on its IRI."""
    if isinstance(target, str):
        _, sep, fragment = target.partition("#")
        return parse_xywh(fragment) if sep and fragment.startswith("xywh=") else None
    if not isinstance(target, dict):
        raise _bad("Each `target` must be an IRI or an object with a `source`.",
                   "invalid-target")
    selectors = _as_list(target.get("selector"))
    if not selectors:
        return None
    for selector in selectors:
        if (isinstance(selector, dict) and selector.get("type") == "FragmentSelector"
                and selector.get("conformsTo", MEDIA_FRAGMENTS) == MEDIA_FRAGMENTS):
            return parse_xywh(selector.get("value"))
    kinds = sorted({str(s.get("type")) for s in selectors if isinstance(s, dict)})
    raise BadInput(f"Unsupported selector {', '.join(kinds) or '(not an object)'}: only a "
                   "FragmentSelector conforming to Media Fragments (xywh=) is supported.",
                   "selector-unsupported")


def _text_of(doc: dict[str, Any]) -> str | None:
    if isinstance(doc.get("bodyValue"), str):
        return str(doc["bodyValue"])
    for body in _as_list(doc.get("body")):
        if isinstance(body, dict) and body.get("type", "TextualBody") == "TextualBody" \
                and isinstance(body.get("value"), str):
            return str(body["value"])
    return None


def _creator_name(doc: dict[str, Any]) -> str | None:
    for creator in _as_list(doc.get("creator")):
        if isinstance(creator, dict):
            for key in ("name", "nickname"):
                if isinstance(creator.get(key), str) and creator[key].strip():
                    return str(creator[key])
    return None


def read(doc: Any, own_iri: str | None = None) -> Incoming:
    """Check a posted annotation (or, with `own_iri`, the new state of that one) and read
    it; bad input is a 400 that says why."""
    doc = _check_envelope(doc)
    motivations = _as_list(doc.get("motivation"))
    targets = _as_list(doc["target"])
    kept = {k: v for k, v in doc.items() if k not in MANAGED}
    given = doc.get("id")
    if isinstance(given, str) and given and given != own_iri:
        if own_iri is not None:
            raise _bad(f"The `id` of a replaced annotation is its own IRI, {own_iri}.",
                       "id-mismatch")
        kept["via"] = [*_as_list(doc.get("via")), given]
    if REPLYING in motivations:
        parent = _iri_of(targets[0])
        if parent is None:
            raise _bad("A reply's `target` must be the IRI of the annotation it replies to.",
                       "invalid-target")
        return Incoming(kept, parent, None, None, _text_of(doc), _creator_name(doc))
    # The first target with a place decides it; the others are kept as they are.
    fragment = None
    chosen = targets[0]
    for target in targets:
        fragment = _fragment_of(target)
        if fragment is not None:
            chosen = target
            break
    source = _iri_of(chosen)
    if source is not None:
        source = source.split("#", 1)[0]
    return Incoming(kept, None, fragment, source, _text_of(doc), _creator_name(doc))
