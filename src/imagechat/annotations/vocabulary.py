"""The IRIs and media types of the Web Annotation Data Model and Protocol
(https://www.w3.org/TR/annotation-model/, https://www.w3.org/TR/annotation-protocol/)."""

from __future__ import annotations

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
LDP_CONTEXT = "http://www.w3.org/ns/ldp.jsonld"
MEDIA_FRAGMENTS = "http://www.w3.org/TR/media-frags/"
PROTOCOL = "http://www.w3.org/TR/annotation-protocol/"

# The protocol's media type: JSON-LD with the annotation context as its profile.
ANNO_MEDIA_TYPE = f'application/ld+json; profile="{ANNO_CONTEXT}"'

LDP_BASIC_CONTAINER = "http://www.w3.org/ns/ldp#BasicContainer"
LDP_RESOURCE = "http://www.w3.org/ns/ldp#Resource"
LDP_CONSTRAINED_BY = "http://www.w3.org/ns/ldp#constrainedBy"
OA_ANNOTATION = "http://www.w3.org/ns/oa#Annotation"

# The `Prefer: return=representation; include="..."` values a container honours.
PREFER_MINIMAL = "http://www.w3.org/ns/ldp#PreferMinimalContainer"
PREFER_IRIS = "http://www.w3.org/ns/oa#PreferContainedIRIs"
PREFER_DESCRIPTIONS = "http://www.w3.org/ns/oa#PreferContainedDescriptions"

COMMENTING = "commenting"
REPLYING = "replying"
