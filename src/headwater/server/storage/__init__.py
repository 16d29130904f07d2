"""Storage: SQLAlchemy Core tables, column types, Alembic migrations and the `Database` handle.

Key contracts: every table has `created` and `updated`; ids are UUIDs; times are timezone-aware UTC on
every dialect; the schema only changes through a migration in `migrations/versions`, and every migration
runs on SQLite and PostgreSQL alike.
"""

from headwater.server.storage.database import Database

__all__ = ["Database"]
