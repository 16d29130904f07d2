"""Settings: `HEADWATER_*` environment variables, then the profile file, then defaults.

The profile file is `$HEADWATER_HOME/profile.toml`, a flat table of `HEADWATER_*` names
(`headwater config set HEADWATER_API_URL=http://127.0.0.1:4200/api` writes it). Settings are read
once per process, on first use, and can be overridden for a block with `temporary_settings`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "HEADWATER_"


def default_home() -> Path:
    """`$HEADWATER_HOME`, or `~/.headwater`."""
    return Path(os.environ.get("HEADWATER_HOME") or Path.home() / ".headwater").expanduser()


def profile_path(home: Path | None = None) -> Path:
    """Where the profile file lives."""
    return (home or default_home()) / "profile.toml"


class _ProfileSource(PydanticBaseSettingsSource):
    """Reads `HEADWATER_*` keys from the profile file, below environment variables in priority."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = profile_path()
        self._values: dict[str, Any] = {}
        if path.is_file():
            with path.open("rb") as f:
                raw = tomllib.load(f)
            for key, value in raw.items():
                name = key.upper().removeprefix(ENV_PREFIX).lower()
                if name in settings_cls.model_fields:
                    self._values[name] = value

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


class Settings(BaseSettings):
    """Every setting Headwater reads. Each is the environment variable `HEADWATER_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    home: Path = Field(default_factory=default_home)
    api_url: str | None = None
    """The server's API, e.g. `http://127.0.0.1:4200/api`. Unset: runs are recorded in the embedded store."""
    api_key: SecretStr | None = None
    """Sent as a bearer token to a server that requires one."""
    server_api_auth_string: SecretStr | None = None
    """When set on the server, every API call must carry it (or `api_key`) as a bearer token."""
    database_url: str | None = None
    """SQLAlchemy URL of the store. Unset: SQLite at `$HEADWATER_HOME/headwater.db`."""
    logging_level: str = "INFO"
    local_storage_path: Path | None = None
    """Where results are persisted by default. Unset: `$HEADWATER_HOME/storage`."""
    record_flush_interval_seconds: float = 0.05
    record_batch_size: int = 2000
    record_buffer_max_items: int = 200_000
    """Past this many unsent records the buffer spills to the local journal."""
    record_flush_timeout_seconds: float = 15.0
    """How long a finishing flow run waits for an unreachable orchestrator before journaling its records."""
    heartbeat_interval_seconds: float = 10.0
    server_host: str = "127.0.0.1"
    server_port: int = 4200
    crash_detection_grace_seconds: float = 60.0
    crash_detection_loop_seconds: float = 5.0
    scheduler_loop_seconds: float = 5.0
    """How often the server's scheduler creates the upcoming runs of deployment schedules."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _ProfileSource(settings_cls)

    @property
    def resolved_database_url(self) -> str:
        """The store's SQLAlchemy URL, the embedded SQLite file when none is set."""
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'headwater.db'}"

    @property
    def resolved_storage_path(self) -> Path:
        """Where results are persisted when a flow or task names no storage."""
        return self.local_storage_path or self.home / "storage"

    @property
    def journal_path(self) -> Path:
        """Where records that could not be delivered wait to be replayed."""
        return self.home / "journal"


_current: Settings | None = None
_overrides: list[dict[str, Any]] = []


def get_settings() -> Settings:
    """The settings in force (read on first use)."""
    global _current
    if _current is None:
        merged: dict[str, Any] = {}
        for layer in _overrides:
            merged.update(layer)
        _current = Settings(**merged)
    return _current


def reset_settings() -> None:
    """Forget the cached settings so the next use reads the environment and profile again."""
    global _current
    _current = None


@contextmanager
def temporary_settings(**updates: Any) -> Iterator[Settings]:
    """Override settings (by field name) for a block: `with temporary_settings(api_url=None): ...`."""
    _overrides.append(updates)
    reset_settings()
    try:
        yield get_settings()
    finally:
        _overrides.remove(updates)
        reset_settings()


def current_overrides() -> dict[str, Any]:
    """The overrides in force (to hand to a worker process so it records where this one does)."""
    merged: dict[str, Any] = {}
    for layer in _overrides:
        merged.update(layer)
    return merged
