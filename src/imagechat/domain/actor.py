"""Who is acting: a visitor, a signed-in user, a moderator, or the site's own backend."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    tenant_id: str
    # Set for signed-in users (Secure or Simple SSO): the tenant's own user id.
    user_id: str | None = None
    # A random id the browser keeps; public, so it never grants edit rights by itself.
    anon_user_id: str | None = None
    display_name: str | None = None
    email: str | None = None
    # The language the site says the user reads (a BCP 47 tag), for their emails.
    locale: str | None = None
    avatar: str | None = None
    # True only for Secure SSO (the site signed who this is).
    verified: bool = False
    is_admin: bool = False
    is_moderator: bool = False
    # True for calls authenticated with the tenant's API secret.
    is_backend: bool = False

    @property
    def can_moderate(self) -> bool:
        return self.is_admin or self.is_moderator or self.is_backend

    @property
    def is_signed_in(self) -> bool:
        return self.user_id is not None

    @property
    def ws_user_id(self) -> str | None:
        """The id presence reports for this viewer."""
        return self.user_id or self.anon_user_id
