"""FastAPI routers: validate, call a service, present. Thin by design."""
