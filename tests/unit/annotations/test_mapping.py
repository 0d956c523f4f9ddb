"""The pure mapping between conversations and Web Annotations (imagechat.annotations)."""

from __future__ import annotations

from typing import Any

import pytest

from imagechat.annotations import AnnotatedImage, AnnotationThread, Iris, collection, incoming
from imagechat.annotations.documents import container, etag, page
from imagechat.annotations.selectors import ImageSize, fragment_selectors, parse_xywh, to_place
from imagechat.annotations.vocabulary import ANNO_CONTEXT, MEDIA_FRAGMENTS
from imagechat.domain.errors import BadInput
from imagechat.domain.models import Comment, Conversation, Positioned
from imagechat.domain.regions import Place

IRIS = Iris(base="https://chat.example", tenant_id="acme", url_id="shop/home.png")
T0 = 1_764_085_500_000


def comment(comment_id: str, text: str, at: int, parent: str | None = None,
            thread: str = "thread-1") -> Comment:
    return Comment(id=comment_id, tenant_id="acme", url_id=thread, url="", parent_id=parent,
                   commenter_name="Ann", comment=text, comment_html=text, user_id=None,
                   anon_user_id="a", avatar=None, verified=False, approved=True,
                   is_by_admin=False, is_by_moderator=False, votes_up=0, votes_down=0,
                   edit_key_hash=None, created_at=at, updated_at=at)


def conversation(chat_id: str, x: float, y: float, w: float | None = None,
                 h: float | None = None) -> Positioned:
    stored = Conversation(id=chat_id, tenant_id="acme", url_id="shop/home.png",
                          window_url_id="thread-1", page_url=None, page_title=None,
                          src="https://shop.example/home.png", x=x, y=y, comment_count=2,
                          resolved=False, user_id=None, anon_user_id="a", commenter_name="Ann",
                          edit_key_hash=None, created_at=T0, updated_at=T0, region_w=w,
                          region_h=h, version=1)
    return Positioned(conversation=stored, on_version=1, x=x, y=y, region_w=w, region_h=h)


def image(documents: dict[str, Any] | None = None, size: ImageSize | None = None
          ) -> AnnotatedImage:
    threads = [
        AnnotationThread("c1", conversation("c1", 10, 20, 30, 15),
                         [comment("m1", "Bigger?", T0), comment("m2", "Yes", T0 + 1),
                          comment("m3", "Agreed", T0 + 2, parent="m2")]),
        AnnotationThread("w1", None, [comment("w1", "Nice overall", T0 + 3,
                                              thread="shop/home.png")]),
    ]
    return AnnotatedImage(url_id="shop/home.png", src="https://shop.example/home.png",
                          size=size, threads=threads, documents=documents or {})


def test_the_iris_keep_the_url_id_in_one_segment_and_parse_back() -> None:
    assert IRIS.container == "https://chat.example/annotations/acme/shop%2Fhome.png/"
    assert IRIS.parse(IRIS.annotation("c1")) == ("c1", None)
    assert IRIS.parse(IRIS.reply("c1", "m2")) == ("c1", "m2")
    assert IRIS.parse("https://elsewhere.example/annotations/acme/shop%2Fhome.png/c1") is None
    assert IRIS.parse(IRIS.container + "c1/other/m2") is None


@pytest.mark.parametrize(("value", "size", "place"), [
    ("xywh=percent:10,20,30,15", None, Place(10, 20, 30, 15)),
    ("xywh=percent:42.5,18,0,0", None, Place(42.5, 18)),
    ("xywh=pixel:100,50,200,100", ImageSize(1000, 500), Place(10, 10, 20, 20)),
    # No unit: pixels, as Media Fragments says.
    ("xywh=100,50,0,0", ImageSize(1000, 500), Place(10, 10)),
    # Drawn to the very edge in pixels: kept on the image.
    ("xywh=pixel:900,400,100.4,100.2", ImageSize(1000, 500), Place(90, 80, 10, 20)),
])
def test_fragments_become_points_and_regions(value: str, size: ImageSize | None,
                                            place: Place) -> None:
    assert to_place(parse_xywh(value), size) == place


@pytest.mark.parametrize(("value", "code"), [
    ("t=10,20", "selector-unsupported"),
    ("xywh=percent:10,20,30", "selector-unsupported"),
    ("xywh=pixel:1,2,3,4", "image-size-unknown"),
    ("xywh=percent:90,10,20,5", "region-out-of-bounds"),
    ("xywh=percent:10,10,0.1,0.1", "region-too-small"),
])
def test_bad_fragments_say_why(value: str, code: str) -> None:
    with pytest.raises(BadInput) as caught:
        to_place(parse_xywh(value), None)
    assert caught.value.code == code


def test_selectors_give_pixels_first_when_the_size_is_known() -> None:
    assert fragment_selectors(Place(10, 20, 30, 15), None) == [
        {"type": "FragmentSelector", "conformsTo": MEDIA_FRAGMENTS,
         "value": "xywh=percent:10,20,30,15"}]
    assert [s["value"] for s in fragment_selectors(Place(12.5, 20), ImageSize(800, 600))] == [
        "xywh=pixel:100,120,0,0", "xywh=percent:12.5,20,0,0"]


def test_incoming_moves_the_id_to_via_and_reads_text_place_and_creator() -> None:
    read = incoming.read({
        "@context": [ANNO_CONTEXT], "type": ["Annotation"], "id": "urn:uuid:1",
        "via": "urn:old", "creator": {"type": "Person", "nickname": "ann"},
        "body": [{"type": "SpecificResource", "source": "https://tags/ui"},
                 {"type": "TextualBody", "value": "Bigger?"}],
        "target": [{"id": "https://other.example/"},
                   {"source": "https://shop.example/home.png#frag", "selector": [
                       {"type": "CssSelector", "value": "#x"},
                       {"type": "FragmentSelector", "value": "xywh=percent:1,2,3,4"}]}],
    })
    assert read.document["via"] == ["urn:old", "urn:uuid:1"] and "id" not in read.document
    assert read.text == "Bigger?" and read.creator_name == "ann"
    assert read.source == "https://shop.example/home.png"
    assert read.fragment is not None and (read.fragment.unit, read.fragment.w) == ("percent", 3)
    reply = incoming.read({"@context": ANNO_CONTEXT, "type": "Annotation",
                           "motivation": ["replying"], "bodyValue": "Yes",
                           "target": {"id": IRIS.annotation("c1")}})
    assert reply.reply_to == IRIS.annotation("c1") and reply.text == "Yes"


def test_a_conversation_and_its_thread_as_annotations() -> None:
    kept = {"c1": {"canonical": "urn:x:1", "motivation": "commenting",
                   "body": [{"type": "TextualBody", "value": "old text", "language": "en"},
                            {"type": "TextualBody", "purpose": "tagging", "value": "ui"}],
                   "target": {"source": "https://shop.example/home.png", "styleClass": "red",
                              "selector": {"type": "FragmentSelector", "value": "stale"}}}}
    found = collection(IRIS, image(kept, ImageSize(1000, 500)))
    assert found["type"] == "AnnotationCollection" and found["total"] == 4
    root, reply, nested, whole = found["first"]["items"]
    assert root["id"] == IRIS.annotation("c1") and root["canonical"] == "urn:x:1"
    # The current text replaces the kept one; the other body and properties stay.
    assert root["body"] == [{"type": "TextualBody", "value": "Bigger?", "language": "en"},
                            {"type": "TextualBody", "purpose": "tagging", "value": "ui"}]
    assert root["target"]["styleClass"] == "red"
    assert [s["value"] for s in root["target"]["selector"]] == [
        "xywh=pixel:100,100,300,75", "xywh=percent:10,20,30,15"]
    assert reply["motivation"] == "replying" and reply["target"] == root["id"]
    assert nested["target"] == IRIS.reply("c1", "m2")
    assert whole["target"] == "https://shop.example/home.png" and "selector" not in whole
    assert whole["body"]["value"] == "Nice overall"


def test_containers_and_pages() -> None:
    shown = image()
    minimal = container(IRIS, shown, minimal=True, iris_only=True, page_size=3)
    assert minimal["first"] == IRIS.page(0, True) and minimal["last"] == IRIS.page(1, True)
    second = page(IRIS, shown, 1, iris_only=True, page_size=3)
    assert second is not None
    assert second["items"] == [IRIS.annotation("w1")] and second["startIndex"] == 3
    assert second["prev"] == IRIS.page(0, True) and "next" not in second
    assert page(IRIS, shown, 2, iris_only=True, page_size=3) is None
    assert etag({"a": 1, "b": 2}) == etag({"b": 2, "a": 1}) != etag({"a": 2, "b": 2})
