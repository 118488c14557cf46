"""Cursors a client might forge or alter: the canonical encoding of any document, valid or not."""

from __future__ import annotations

import base64
import json
from typing import Any


def forge(list_name: str, position: Any, version: Any = 1) -> str:
    """A token encoded exactly as ``projections/cursor.py`` encodes, around any position."""
    document = {"at": position, "list": list_name, "v": version}
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
