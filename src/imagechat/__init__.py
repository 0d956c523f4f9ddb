"""ImageChat: live conversations pinned to spots on images."""

__version__ = "0.1.0"
