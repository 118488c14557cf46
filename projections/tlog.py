"""The verifiable log as served (DESIGN.md §9): signed checkpoints, entries with their leaf
bytes, inclusion and consistency proofs, all read from the stored tree in O(log n) lookups."""

from __future__ import annotations

from typing import Any

from ledger.errors import EntryNotFoundError, ProofRangeError
from projections.merkle import StoredTree, leaf_bytes
from projections.service import LedgerService
from projections.signing import KeyFile, b64, key_path
from projections.verify import Check, Checkpoint, check_extends

PROVENANCE = (
    "entry_id", "aggregate_id", "version", "event_type", "aggregate_kind", "recorded_at",
    "effective_on", "actor_id", "actor_role", "on_behalf_of", "reason", "command_id", "council",
    "budget_id", "provider", "invoice_id",
)  # fmt: skip


def key_file(service: LedgerService) -> KeyFile:
    return KeyFile(key_path(service.app.database_url))


def public_key(service: LedgerService) -> dict[str, Any]:
    keys = key_file(service)
    return {"verifier_key": keys.signer().verifier_key, "retired": keys.retired()}


def signed_checkpoint(service: LedgerService) -> dict[str, Any]:
    """The tree's size and root now, signed."""
    with service.db.transaction(write=False) as cur:
        tree = StoredTree(cur)
        size = tree.size()
        root = tree.root(size)
    note = key_file(service).signer().checkpoint(size, root)
    return {"tree_size": size, "root_hash": b64(root), "signed_note": note}


def tree_size(service: LedgerService) -> int:
    with service.db.transaction(write=False) as cur:
        return StoredTree(cur).size()


def entry(service: LedgerService, index: int) -> dict[str, Any]:
    """Leaf ``index``: its log position, its leaf bytes (base64, read from the event store) and
    the audit trail's provenance of the event."""
    with service.db.transaction(write=False) as cur:
        position = StoredTree(cur).position(index)
        if position is None:
            raise EntryNotFoundError(f"the log has no leaf {index}", leaf_index=index)
        row = cur.execute("SELECT * FROM v_audit WHERE position = ?", (position,)).fetchone()
    found = service.app.recorder.select_notifications(position, 1, stop=position)
    if not found or found[0].id != position:
        raise EntryNotFoundError(
            f"leaf {index} (position {position}) is missing from the event store",
            leaf_index=index,
            position=position,
        )
    provenance = {name: (row or {}).get(name) for name in PROVENANCE}
    leaf = leaf_bytes(found[0])
    return {"leaf_index": index, "position": position, "leaf": b64(leaf), "provenance": provenance}


def inclusion(service: LedgerService, index: int, size: int | None) -> dict[str, Any]:
    with service.db.transaction(write=False) as cur:
        tree = StoredTree(cur)
        size = _within(tree.size(), size, "size")
        if index >= size:
            raise ProofRangeError(
                f"leaf {index} is not in a tree of {size}",
                field="leaf_index",
                leaf_index=index,
                tree_size=size,
            )
        path = tree.inclusion(index, size)
    return {"leaf_index": index, "tree_size": size, "hashes": [b64(h) for h in path]}


def consistency(service: LedgerService, first: int, second: int | None) -> dict[str, Any]:
    with service.db.transaction(write=False) as cur:
        tree = StoredTree(cur)
        second = _within(tree.size(), second, "to")
        if not 0 < first <= second:
            raise ProofRangeError(
                f"no consistency proof from {first} to {second}: 0 < from ≤ to",
                field="from",
                first=first,
                second=second,
            )
        path = tree.consistency(first, second)
    return {"from": first, "to": second, "hashes": [b64(h) for h in path]}


def _within(current: int, size: int | None, field: str) -> int:
    if size is None:
        return current
    if size > current:
        raise ProofRangeError(
            f"the log holds {current} entries, not {size}", field=field, tree_size=current
        )
    return size


def check_tree(service: LedgerService, size: int, root_b64: str) -> Check:
    """The stored tree, at a kept checkpoint's size, still has the kept root (O(log n) reads).
    A regulator checks the same offline with a consistency proof, trusting nothing served."""
    with service.db.transaction(write=False) as cur:
        tree = StoredTree(cur)
        current = tree.size()
        same = size <= current and b64(tree.root(size)) == root_b64
    if not same:
        detail = f"the Merkle tree no longer extends the kept tree of {size} entries"
        return Check("merkle-checkpoint", False, detail, size)
    return Check("merkle-checkpoint", True, f"the tree ({current} entries) extends the checkpoint")


def kept_checks(service: LedgerService, kept: dict[str, Any]) -> list[Check]:
    """A kept checkpoint (``careledger checkpoint``'s JSON): the chain still extends its head,
    and, when it has the tree's part, the stored tree still has its root at its size."""
    chain = Checkpoint(kept["size"], kept["head_hash"], kept["taken_at"])
    checks = [check_extends(service.app, chain)]
    if "tree_size" in kept and "root_hash" in kept:
        checks.append(check_tree(service, int(kept["tree_size"]), str(kept["root_hash"])))
    return checks
