"""How dates and the value objects are stored in event JSON (the library lacks ``date``)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from ledger.provenance import Provenance
from ledger.values import (
    Allocation,
    Deployment,
    FundingStream,
    InvoiceLine,
    Period,
    PlanLine,
)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DataclassAsDict(Transcoding):
    """A frozen dataclass stored as a dict of its fields; nested values transcode recursively."""

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name
        fields = dataclasses.fields(cls)
        self._fields = tuple(f.name for f in fields if not f.metadata.get("stored_if_set"))
        # Fields added later, stored only when set: older events (and unset values) lack them.
        self._optional = tuple(f.name for f in fields if f.metadata.get("stored_if_set"))

    def encode(self, obj: Any) -> dict[str, Any]:
        data = {f: getattr(obj, f) for f in self._fields}
        for name in self._optional:
            if (value := getattr(obj, name)) is not None:
                data[name] = value
        return data

    def decode(self, data: dict[str, Any]) -> Any:
        """Rebuild without re-running validation: stored values were checked when written,
        and replay must read back exactly what was stored (and fast)."""
        obj: Any = object.__new__(self.type)
        for name in self._fields:
            value = data[name]
            object.__setattr__(obj, name, tuple(value) if isinstance(value, list) else value)
        for name in self._optional:
            object.__setattr__(obj, name, data.get(name))
        return obj


STORED_VALUE_TYPES: dict[str, type[Any]] = {
    "provenance": Provenance,
    "period": Period,
    "plan_line": PlanLine,
    "funding_stream": FundingStream,
    "allocation": Allocation,
    "deployment": Deployment,
    "invoice_line": InvoiceLine,
}


def register_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    for name, cls in STORED_VALUE_TYPES.items():
        transcoder.register(DataclassAsDict(cls, name))
    # A budget's own state objects, stored only in its snapshots (``ledger.snapshots``).
    from ledger.budget_invoices import InvoiceOnBudget
    from ledger.budget_people import Representative

    transcoder.register(DataclassAsDict(InvoiceOnBudget, "invoice_on_budget"))
    transcoder.register(DataclassAsDict(Representative, "representative"))
