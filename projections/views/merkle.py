"""The log's Merkle tree (RFC 9162), kept beside the audit view: leaf index → position, and every
node of every perfect subtree (``projections.merkle``), appended a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from projections.bulk import insert_rows
from projections.db import SqlCursor
from projections.merkle import StoredTree, append_nodes, frontier, leaf_bytes, leaf_hash
from projections.refs import RefsView

if TYPE_CHECKING:
    from projections.runner import Item


class MerkleView:
    name = "merkle"
    tables: tuple[str, ...] = ("v_merkle_leaves", "v_merkle_nodes")
    # Append-only by leaf: the tree at any size is already its own history.
    history = False
    indexes: tuple[str, ...] = (
        "CREATE INDEX IF NOT EXISTS v_merkle_leaves_position ON v_merkle_leaves (position)",
    )

    def create(self, cur: SqlCursor) -> None:
        # On SQLite the leaf index is the rowid and the nodes live in their key's B-tree alone
        # (WITHOUT ROWID): one B-tree written a row, not two.
        sqlite = cur.dialect != "postgres"
        key, blob = ("INTEGER", "BLOB") if sqlite else ("BIGINT", "BYTEA")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS v_merkle_leaves (leaf_index {key} PRIMARY KEY,"
            " position BIGINT NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS v_merkle_nodes (level INTEGER NOT NULL,"
            f" idx BIGINT NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx))"
            + (" WITHOUT ROWID" if sqlite else "")
        )

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        tree = StoredTree(cur)
        size = tree.size()
        edge = tree.nodes(frontier(size))
        hashes = [leaf_hash(leaf_bytes(i.notification, i.aggregate_id)) for i in items]
        leaves = [(size + n, item.position) for n, item in enumerate(items)]
        insert_rows(cur, "v_merkle_leaves", ("leaf_index", "position"), leaves)
        insert_rows(
            cur, "v_merkle_nodes", ("level", "idx", "hash"), append_nodes(size, hashes, edge)
        )
