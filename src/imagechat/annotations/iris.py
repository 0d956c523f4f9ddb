"""Where each resource of one image's container lives.

`{base}/annotations/{tenantId}/{urlId}/` is the container; the urlId is one path segment,
percent-encoded (`%2F` for `/`). A conversation, or a comment on the whole image, is
`{container}{id}`; a reply in its thread is `{container}{id}/replies/{commentId}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

PREFIX = "/annotations"


def segment(text: str) -> str:
    """One path segment: everything but unreserved characters percent-encoded."""
    return quote(text, safe="")


@dataclass(frozen=True, slots=True)
class Iris:
    # The server's own address as the client reached it, without a trailing `/`.
    base: str
    tenant_id: str
    url_id: str

    @property
    def container(self) -> str:
        return f"{self.base}{PREFIX}/{segment(self.tenant_id)}/{segment(self.url_id)}/"

    def annotation(self, root_id: str) -> str:
        return f"{self.container}{segment(root_id)}"

    def reply(self, root_id: str, comment_id: str) -> str:
        return f"{self.annotation(root_id)}/replies/{segment(comment_id)}"

    def page(self, number: int, iris_only: bool) -> str:
        return f"{self.container}?page={number}" + ("&iris=1" if iris_only else "")

    def parse(self, iri: str) -> tuple[str, str | None] | None:
        """(root id, reply id or None) of one of this container's annotations, or None."""
        if not iri.startswith(self.container):
            return None
        parts = iri[len(self.container):].split("/")
        if len(parts) == 1 and parts[0]:
            return parts[0], None
        if len(parts) == 3 and parts[0] and parts[1] == "replies" and parts[2]:
            return parts[0], parts[2]
        return None
