"""Headwater's version, read by the build and by `headwater version`."""

__version__ = "0.1.0"
