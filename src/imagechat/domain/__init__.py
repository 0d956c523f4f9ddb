"""Entities, event types, validation rules and errors. Pure Python, no I/O."""
