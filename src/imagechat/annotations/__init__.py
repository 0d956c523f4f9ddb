"""Conversations and their comments as W3C Web Annotations (JSON-LD), and back.

Pure functions, no storage, no requests (docs/annotations.md):

- `vocabulary`: the IRIs and media types of the Web Annotation model and protocol;
- `iris`: where each annotation, container and page lives;
- `selectors`: Media Fragments `xywh=` selectors <-> points and regions;
- `incoming`: what a client POSTs or PUTs, checked and read;
- `documents`: annotations, pages, containers and the whole AnnotationCollection of an
  image, merged with what each client gave.

`collection(iris, image)` is the image's AnnotationCollection, every conversation and reply
embedded: what an export of the image writes.
"""

from __future__ import annotations

from imagechat.annotations.documents import AnnotatedImage, AnnotationThread, collection
from imagechat.annotations.iris import Iris

__all__ = ["AnnotatedImage", "AnnotationThread", "Iris", "collection"]
