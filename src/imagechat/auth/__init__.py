"""Identity: SSO verification, the acting visitor, API secrets."""
