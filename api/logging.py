"""structlog set-up: context variables first, JSON off-terminal, never personal data."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(json: bool | None = None) -> None:
    as_json = not sys.stdout.isatty() if json is None else json
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=False,  # True would hide loggers from capture_logs in tests
    )
