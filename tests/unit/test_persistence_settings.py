"""One setting, CARELEDGER_DATABASE_URL, chooses the event store."""

from __future__ import annotations

import pytest

from ledger.errors import InvalidCommandError
from ledger.persistence import persistence_env


def test_sqlite_url_names_the_database_file() -> None:
    env = persistence_env("sqlite:///data/careledger.db")

    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == "data/careledger.db"


def test_absolute_sqlite_path_keeps_its_leading_slash() -> None:
    assert (
        persistence_env("sqlite:////var/lib/careledger.db")["SQLITE_DBNAME"]
        == "/var/lib/careledger.db"
    )


def test_postgresql_url_maps_to_the_library_settings_without_db_functions() -> None:
    env = persistence_env(
        "postgresql://ledger:s%40cret@db.internal:6543/careledger?schema=ledger&pool_size=10"
    )

    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.internal",
        "6543",
        "careledger",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("ledger", "s@cret")
    assert env["POSTGRES_SCHEMA"] == "ledger"
    assert env["POSTGRES_POOL_SIZE"] == "10"
    assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "n"


def test_every_wait_is_bounded_by_default_and_each_bound_can_be_set_in_the_url() -> None:
    defaults = persistence_env("postgresql://db/careledger")
    tuned = persistence_env(
        "postgresql://db/careledger?lock_timeout=1&statement_timeout=30&connect_timeout=2"
    )

    assert [defaults[f"POSTGRES_{k}_TIMEOUT"] for k in ("LOCK", "STATEMENT", "CONNECT")] == [
        "10",
        "0",  # no limit on statements: exports and index builds of a national ledger run long
        "10",
    ]
    assert [tuned[f"POSTGRES_{k}_TIMEOUT"] for k in ("LOCK", "STATEMENT", "CONNECT")] == [
        "1",
        "30",
        "2",
    ]


def test_memory_url_is_for_unit_tests() -> None:
    assert persistence_env("memory://") == {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.mark.parametrize(
    "url",
    ["mysql://root@localhost/x", "sqlite://host/file.db", "sqlite:///", "postgresql://h/db?evil=1"],
)
def test_refuses_an_unusable_url(url: str) -> None:
    with pytest.raises(InvalidCommandError):
        persistence_env(url)
