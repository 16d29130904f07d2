"""Request-scoped dependencies: the database the app serves."""

from __future__ import annotations

from fastapi import Request

from headwater.server.storage.database import Database


def get_db(request: Request) -> Database:
    """The app's open database."""
    db: Database = request.app.state.db
    return db
