"""The audit trail: every event with its provenance, filtered and paged; integrity checks of the
hash chain; checkpoints a regulator keeps; auditors' notes.

Auditors and regulators read the trail and verify it; an auditor whose token is scoped to a
council reads only that council's rows. Only auditors add notes: a note is itself an event, so it
appears in the trail like any other, and it never changes money.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import Field, StrictInt, StringConstraints

from api.auth import Principal
from api.deps import Allow, Command, IdempotencyKey, ReadService, Service, etag
from api.models import BusinessDate, Instant, Reason, Strict, Written
from api.pagination import CursorParam, Limit, Page, page_of
from api.params import AsAt, CouncilCode, ProviderRef, as_at_position, check_range
from api.problems import responses
from api.responses_audit import AuditRow, CheckpointCheck, CheckpointOut, Verification
from api.routers.reports import council_scope
from api.scope import registered
from ledger.audit_note import MAX_NOTE_LENGTH
from ledger.errors import BudgetNotFoundError, EntryNotFoundError
from ledger.personal import context, reveal_reasons, shown_for
from ledger.provenance import Role
from projections.cursor import CursorKind, Int
from projections.replicas import LedgerReads
from projections.tlog import check_tree, signed_checkpoint
from projections.verify import Checkpoint, check_extends, take_checkpoint, verify
from projections.views.audit import utc_stamp
from projections.views.people import erased_owners, masked

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Reader = Annotated[Principal, Depends(Allow(Role.AUDITOR, Role.REGULATOR))]
Auditor = Annotated[Principal, Depends(Allow(Role.AUDITOR))]
READ = responses(403)
END = 2**62
CURSORS = CursorKind("audit", ((Int(),),))  # the last row's log position

ActorQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        pattern=r"^[!-~]+$",
        description="Who recorded the entry (actor_id: a token id, representative id, …).",
    ),
]
BudgetQuery = Annotated[
    UUID | None, Query(description="A personal budget's id (any spelling of the UUID).")
]
RecordedFrom = Annotated[
    Instant | None, Query(alias="from", description="Recorded at or after (ISO 8601).")
]
RecordedTo = Annotated[
    Instant | None, Query(alias="to", description="Recorded at or before (ISO 8601).")
]
EntryId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F-]{36}/[0-9]{1,9}$"),
    Field(description="An entry id, '<aggregate uuid>/<version>'.", examples=["<uuid>/3"]),
]

FILTERS = (
    ("budget_id = ?", "budget"),
    ("actor_id IN (?, ?)", "actor"),  # as given, or a representative's pseudonym
    ("provider = ?", "provider"),
    ("council = ?", "council"),
    ("recorded_at >= ?", "from"),
    ("recorded_at <= ?", "to"),
)


def _stamp(instant: datetime | None) -> str | None:
    return None if instant is None else utc_stamp(instant)


def _where(values: dict[str, Any], event_type: str | None) -> tuple[str, list[Any]]:
    clauses = [sql for sql, name in FILTERS if values[name] is not None]
    params = [values[name] for _, name in FILTERS if values[name] is not None]
    params = [p for value in params for p in (value if isinstance(value, tuple) else (value,))]
    if event_type is not None:
        # 'Invoice.Paid', or just 'Paid' for that event of any record
        clauses.append("(event_type = ? OR event_type LIKE ?)")
        params.extend([event_type, f"%.{event_type}"])
    return "".join(f" AND {c}" for c in clauses), params


@router.get("", responses=responses(403, 404), response_model=Page[AuditRow])
def get_audit_trail(
    who: Reader,
    service: ReadService,
    budget: BudgetQuery = None,
    actor: ActorQuery = None,
    event_type: Annotated[
        str | None,
        Query(
            alias="type",
            min_length=1,
            max_length=80,
            pattern=r"^[A-Za-z][A-Za-z.]*$",
            description="An event type, e.g. 'Invoice.Paid' or just 'Paid'.",
        ),
    ] = None,
    provider: ProviderRef = None,
    council: CouncilCode = None,
    recorded_from: RecordedFrom = None,
    recorded_to: RecordedTo = None,
    cursor: CursorParam = None,
    limit: Limit = 100,
    as_at: AsAt = None,
) -> Any:
    """Every event in log order with who did it (actor, role, on whose behalf, why, under which
    command), when it was recorded and effective, what it concerns, and its chain hash. Filter
    by budget, actor, event type, provider, council and recorded instants (`from`, `to`, both
    inclusive; `to` before `from` is 422); page on with `cursor` = `next_cursor`. Auditors'
    notes carry their text in `audit_note`. With `as_at`, the trail as it stood then."""
    check_range(recorded_from, recorded_to)
    stop = as_at_position(service, as_at)
    registered(service, provider=provider)
    if budget is not None and not service.app.exists(budget):
        raise BudgetNotFoundError("no PersonalBudget with that id", budget_id=str(budget))
    values = {
        "budget": str(budget) if budget is not None else None,
        # A representative's acts are stored under their pseudonym: found by their id too.
        "actor": None
        if actor is None
        else (actor, service.app.personal.pseudonym("representative", actor)),
        "provider": provider,
        "council": council_scope(who, council, service),
        "from": _stamp(recorded_from),
        "to": _stamp(recorded_to),
    }
    where, params = _where(values, event_type)
    start = CURSORS.decode(cursor)
    rows = service.db.query(
        f"SELECT * FROM v_audit WHERE position > ? AND position <= ?{where}"  # noqa: S608
        " ORDER BY position LIMIT ?",
        [start[0] if start else 0, END if stop is None else stop, *params, limit + 1],
    )
    erased = erased_owners(service.db, rows[:limit])
    page = [_row(service, r, p) for r, p in zip(rows[:limit], erased, strict=True)]
    more = len(rows) > limit
    listed = page_of(page, more, CURSORS.encode(page[-1]["position"]) if more else None)
    return {**listed, "as_at_position": stop}


def _row(service: LedgerReads, r: dict[str, Any], person: str | None) -> dict[str, Any]:
    """One trail row, its sealed fields opened (or erased). On a row about an erased
    ``person``, what an event written before sealing holds in the clear is shown as erased."""
    personal = service.app.personal
    row = {**r, "position": int(r["position"]), "version": int(r["version"])}
    if person is not None:
        row = masked(row, person)
    row["reason"] = reveal_reasons(personal, row["reason"])
    if r["aggregate_kind"] == "audit-note":
        note = service.app.audit_note(r["aggregate_id"])
        row["audit_note"] = {
            "code": note.code,
            "note": shown_for(personal, note.note, context(note.id, "note"), person is not None),
            "subject_entry_id": note.subject_entry_id,
        }
    return row


@router.get("/verify", responses=READ, response_model=Verification)
def get_verification(who: Reader, service: Service) -> Any:
    """Recompute the hash chain from the event store and compare it with the trail, check the
    trial balance is zero, and rebuild every view from the log to compare row for row. Answers
    200 whatever it finds: `ok` is false and each failing check names the first bad position.
    It reads the whole log, so it takes a while on a large ledger."""
    return verify(service.app, service.runner).as_dict()


@router.get("/checkpoint", responses=READ, response_model=CheckpointOut)
def get_checkpoint(who: Reader, service: Service) -> Any:
    """The log's size and head hash now, recomputed from the store: keep it, and later ask
    whether the log still extends it. `signed_note` is the Merkle tree's checkpoint
    (`tree_size` leaves, `root_hash`) as a C2SP signed note: keep it, and check it, entries'
    inclusion and later checkpoints' consistency with it offline (DESIGN.md §9)."""
    return {**vars(take_checkpoint(service.app)), **signed_checkpoint(service)}


class CheckpointIn(Strict):
    size: Annotated[StrictInt, Field(ge=0, le=END)]
    head_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    taken_at: Annotated[
        str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,15}Z$")
    ]
    # The Merkle tree's part of a checkpoint from GET /v1/audit/checkpoint (optional).
    tree_size: Annotated[StrictInt, Field(ge=0, le=END)] | None = None
    root_hash: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")] | None = None
    signed_note: Annotated[str, StringConstraints(max_length=4096)] | None = None


@router.post(
    "/checkpoint/check",
    responses=responses(400, 403),
    response_model=CheckpointCheck,
    openapi_extra={"x-read-only": True},  # writes nothing: no Idempotency-Key
)
def check_checkpoint(body: CheckpointIn, who: Reader, service: Service) -> Any:
    """Whether the log still begins with exactly the log a checkpoint saw. It writes nothing,
    so it needs no Idempotency-Key. `ok` false names the checkpoint's size as the first bad
    position: history up to there was rewritten."""
    checkpoint = Checkpoint(body.size, body.head_hash, body.taken_at)
    check = check_extends(service.app, checkpoint)
    if check.ok and body.tree_size is not None and body.root_hash is not None:
        check = check_tree(service, body.tree_size, body.root_hash)
    return {**vars(check), "checkpoint": vars(checkpoint)}


class NoteIn(Strict):
    subject_entry_id: EntryId | None = None
    code: Annotated[Reason, Field(description="A short finding code, e.g. 'ctrl-weak-approval'.")]
    note: Annotated[
        str,
        StringConstraints(min_length=1, max_length=MAX_NOTE_LENGTH),
        Field(description=f"At most {MAX_NOTE_LENGTH} printable characters; no personal data."),
    ]
    effective_on: BusinessDate


@router.post("/notes", status_code=status.HTTP_201_CREATED, responses=responses(400, 403, 404, 409))
def add_audit_note(
    body: NoteIn, who: Auditor, key: IdempotencyKey, service: Service, response: Response
) -> Written:
    """Add an audit note, optionally about one entry (`subject_entry_id`, as in the trail). The
    note is an event: it joins the trail under the entry's council, budget and provider. An
    auditor scoped to a council writes notes only on that council's entries (404 otherwise)."""
    if who.council is not None and body.subject_entry_id is not None:
        subject = service.app.entry_subject(body.subject_entry_id)
        if subject.council != who.council:
            raise EntryNotFoundError("no entry with that id", entry_id=body.subject_entry_id)
    outcome = service.app.add_audit_note(
        body.subject_entry_id,
        body.code,
        body.note,
        body.effective_on,
        Command(who, key).prov(),
        council=who.council,
    )
    etag(response, int(outcome["version"]))
    return Written(
        id=outcome["note_id"], version=outcome["version"], replayed=bool(outcome.get("replayed"))
    )
