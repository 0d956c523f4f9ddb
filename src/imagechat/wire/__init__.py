"""JSON shapes shared by REST, WebSocket and the widget: one place for every field name."""
