"""Static files: the embeddable widget (widget/) and the demo page (demo/)."""
