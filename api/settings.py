"""Settings from the environment or .env, behind one cached accessor."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.persistence import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARELEDGER_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    log_json: bool | None = None  # None: JSON when stdout is not a terminal
    # True: each write catches the views up before it returns (read-your-writes, embedded use).
    # False: run `careledger project --follow` as a separate worker.
    inline_projections: bool = True
    # The web console's session cookies are encrypted and signed with a key derived from this
    # secret. None: a random one per process (sessions end on restart; set it for --workers > 1).
    console_secret: str | None = None
    console_session_minutes: int = 480
    # Reads on PostgreSQL streaming replicas (``projections.replicas``): one or more standby
    # URLs, comma-separated. None: every read on the primary.
    read_database_url: str | None = None
    # A standby further behind the primary than this is skipped (503 when none is fresh).
    read_max_lag_seconds: float = Field(default=5.0, gt=0, le=3600)
    # How long a read with min_position waits for a standby (or worker-fed views) to apply it.
    read_wait_seconds: float = Field(default=2.0, ge=0, le=60)


@lru_cache
def get_settings() -> Settings:
    return Settings()
