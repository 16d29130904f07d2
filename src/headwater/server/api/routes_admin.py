"""Health and version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from headwater._version import __version__
from headwater.schemas.responses import Health
from headwater.server.api.dependencies import get_db
from headwater.server.storage.database import Database

router = APIRouter()


@router.get("/health", tags=["admin"])
async def health(db: Annotated[Database, Depends(get_db)]) -> Health:
    """Whether the server is up, and which database it serves."""
    return Health(status="ok", version=__version__, database=db.dialect_name)


@router.get("/version", tags=["admin"])
async def version() -> str:
    """The server's version."""
    return __version__
