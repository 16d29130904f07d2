"""Alembic migrations, configured in code (see `headwater.server.storage.migrate`); no `alembic.ini` is
needed at runtime.

To write a new migration: add `versions/NNNN_what.py` (`alembic revision` works with a config whose
`script_location` is this folder), set `down_revision` to the current head, update `HEAD_REVISION`
below, update `tables.py`, and make the change work on SQLite (use `op.batch_alter_table` for ALTERs,
which SQLite only partly supports) and PostgreSQL. The test suite runs every migration on both and checks
`HEAD_REVISION` and `tables.py` against the scripts.
"""

HEAD_REVISION = "0002"
"""The newest revision. Opening a database compares it with `alembic_version` without importing Alembic."""
