"""Requests this server makes to others (webhooks, image fetches), guarded so that nobody
can point it at the operator's own network."""
