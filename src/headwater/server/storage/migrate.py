"""Running the Alembic migrations in code. Importing Alembic costs a few hundred milliseconds, so this
module is only imported when a database really has to be migrated (or a test asks for the script head).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our scripts; `connection`, when given, is the one migrations use."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_head() -> str:
    """The head revision according to the migration scripts."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts in {MIGRATIONS_DIR}")
    return head


def upgrade_to_head(connection: Connection) -> None:
    """Apply every missing migration, inside the caller's transaction (DDL is transactional on both
    dialects, as we emit BEGIN ourselves on SQLite), so a failed migration leaves nothing half done."""
    command.upgrade(alembic_config(connection), "head")
