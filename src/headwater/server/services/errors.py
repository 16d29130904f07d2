"""The errors services raise, for callers that map them (the HTTP API: 404 and 422)."""

from headwater.exceptions import InvalidInput, ObjectNotFound

__all__ = ["InvalidInput", "ObjectNotFound"]
