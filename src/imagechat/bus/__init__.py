"""Brokers: how nodes hand events to each other. Picked by URL scheme."""
