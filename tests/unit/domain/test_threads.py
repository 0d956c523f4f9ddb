from __future__ import annotations

import pytest

from imagechat.domain.threads import ThreadPoint, number_text, parse_window_url_id, window_url_id


@pytest.mark.parametrize(("value", "text"), [(25.5, "25.5"), (30.0, "30"), (0, "0"),
                                             (100, "100"), (12.25, "12.25"), (0.1, "0.1")])
def test_coordinates_print_as_javascript_prints_them(value: float, text: str) -> None:
    assert number_text(value) == text


def test_a_derived_thread_id_has_the_reference_form() -> None:
    assert window_url_id("my-page", "/images/photo.jpg", 25.5, 30.2) == \
        "my-page:/images/photo.jpg:25.5:30.2"
    assert window_url_id("img", None, 10, 20) == "img::10:20"
    # A fragment of the src would be cut off with the coordinates when the id is cleaned.
    assert window_url_id("img", "/a.png#v2", 1, 2) == "img:/a.png:1:2"


@pytest.mark.parametrize(("text", "point"), [
    ("my-page:/images/photo.jpg:25.5:30.2",
     ThreadPoint("my-page", "/images/photo.jpg", 25.5, 30.2)),
    # Colons in the image's urlId (a port) and in the src (a scheme).
    ("127.0.0.1:8000/demo:/static/a.png:1:2", ThreadPoint("127.0.0.1:8000/demo", "/static/a.png",
                                                          1, 2)),
    ("site.com/p:https://cdn.example/x.png:0:100",
     ThreadPoint("site.com/p", "https://cdn.example/x.png", 0, 100)),
    ("page:images/a.png:3:4", ThreadPoint("page", "images/a.png", 3, 4)),
    ("page:data:image/png;base64,AAAA:5:6", ThreadPoint("page", "data:image/png;base64,AAAA",
                                                        5, 6)),
])
def test_thread_ids_of_the_reference_form_are_read_back(text: str, point: ThreadPoint) -> None:
    assert parse_window_url_id(text) == point
    assert parse_window_url_id(window_url_id(point.url_id, point.src, point.x, point.y)) == point


@pytest.mark.parametrize("text", [
    "chat-0123456789abcdef01234567", "https://blog.example/post", "img::10:20",
    "page:/a.png:101:5", "page:/a.png:x:5", "page:/a.png:nan:5", ":/a.png:1:2", "a:b:c:d:1:2",
])
def test_other_url_ids_are_not_conversation_threads(text: str) -> None:
    assert parse_window_url_id(text) is None
