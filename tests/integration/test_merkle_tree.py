"""The stored Merkle tree agrees with RFC 9162/6962: with the published Certificate Transparency
test vectors, with an independent implementation from PyPI (pymerkle, RFC 6962 hashing) and
with the RFC's own recursive definitions (MTH, PATH, PROOF written out naively below), on
random logs of many sizes appended in random pages; and the offline verifier accepts exactly
the proofs it serves."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence

import pytest
from pymerkle import InmemoryTree

from projections.db import SqliteViewDb, ViewDb
from projections.merkle import EMPTY_ROOT, StoredTree, append_nodes, frontier, leaf_hash
from projections.views.merkle import MerkleView
from scripts import tlog_verify

# RFC 6962 test vectors as published with Certificate Transparency's reference implementations:
# the leaves' data, the root of each prefix (size 0 … 8), inclusion and consistency proofs.
CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]  # fmt: skip
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (leaf index from 0, tree size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CT_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


# --- RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1, written out as the RFC states them -----------------


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = k_of(len(d))
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = k_of(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return subproof(m, d, True)


# --- a stored tree, appended page by page -------------------------------------------------------


@pytest.fixture
def db() -> Iterator[ViewDb]:
    database = SqliteViewDb(":memory:")
    with database.transaction() as cur:
        MerkleView().create(cur)
    yield database
    database.close()


def append(db: ViewDb, data: Sequence[bytes], pages: Sequence[int]) -> None:
    """Append the leaves' data in pages of the given sizes, as the view does."""
    done = 0
    for page in [*pages, len(data)]:
        chunk = data[done : done + page]
        if not chunk:
            continue
        with db.transaction() as cur:
            tree = StoredTree(cur)
            size = tree.size()
            rows = append_nodes(size, [leaf_hash(x) for x in chunk], tree.nodes(frontier(size)))
            cur.executemany("INSERT INTO v_merkle_nodes VALUES (?, ?, ?)", rows)
            cur.executemany(
                "INSERT INTO v_merkle_leaves VALUES (?, ?)",
                [(size + i, 10 * (size + i)) for i in range(len(chunk))],
            )
        done += len(chunk)


def test_the_tree_matches_the_published_rfc6962_vectors(db: ViewDb) -> None:
    append(db, CT_LEAVES, [3, 1, 2])
    with db.transaction(write=False) as cur:
        tree = StoredTree(cur)
        assert [tree.root(n).hex() for n in range(9)] == CT_ROOTS
        assert EMPTY_ROOT.hex() == CT_ROOTS[0]
        for index, size, hashes in CT_INCLUSION:
            assert [h.hex() for h in tree.inclusion(index, size)] == hashes
        for old, new, hashes in CT_CONSISTENCY:
            assert [h.hex() for h in tree.consistency(old, new)] == hashes


@pytest.mark.parametrize("seed", range(6))
def test_roots_and_proofs_agree_with_pymerkle_and_the_rfc_on_random_logs(
    db: ViewDb, seed: int
) -> None:
    rng = random.Random(seed)
    n = rng.choice([1, 2, 3, 5, 17, 31, 33, 64, 100, 129, 257])
    data = [rng.randbytes(rng.randint(0, 40)) for _ in range(n)]
    append(db, data, [rng.randint(1, 40) for _ in range(rng.randint(0, 6))])
    oracle = InmemoryTree(algorithm="sha256")  # RFC 6962 prefixes (its security mode, default)
    with db.transaction(write=False) as cur:
        tree = StoredTree(cur)
        for size in range(1, n + 1):
            oracle.append_entry(data[size - 1])
            root = tree.root(size)
            assert root == oracle.get_root() == mth(data[:size])
            for index in rng.sample(range(size), min(size, 4)):
                served = tree.inclusion(index, size)
                assert served == path(index, data[:size])
                leaf = leaf_hash(data[index])
                tlog_verify.verify_inclusion(index, size, leaf, served, root)
            for old in rng.sample(range(1, size + 1), min(size, 4)):
                served = tree.consistency(old, size)
                assert served == proof(old, data[:size])
                tlog_verify.verify_consistency(old, size, served, mth(data[:old]), root)


def test_pymerkle_proofs_check_out_with_the_offline_verifier(db: ViewDb) -> None:
    """The other way round: paths pymerkle builds verify with our verifier (its inclusion path
    is the leaf, then the proof)."""
    data = [bytes([i]) * (i % 7) for i in range(45)]
    append(db, data, [10, 10])
    oracle = InmemoryTree(algorithm="sha256")
    oracle.append_entries(data)
    for index in range(45):
        theirs = oracle.prove_inclusion(index + 1, 45).serialize()["path"]
        hashes = [bytes.fromhex(h) for h in theirs[1:]]
        leaf = leaf_hash(data[index])
        tlog_verify.verify_inclusion(index, 45, leaf, hashes, oracle.get_root())


def test_a_proof_reads_a_logarithmic_number_of_nodes(db: ViewDb) -> None:
    data = [i.to_bytes(4, "big") for i in range(3000)]
    append(db, data, [1000, 999, 1])
    reads: list[int] = []
    with db.transaction(write=False) as cur:
        tree = StoredTree(cur)
        original = tree.nodes

        def counting(keys):  # type: ignore[no-untyped-def]
            found = original(keys)
            reads.append(len(found))
            return found

        tree.nodes = counting  # type: ignore[method-assign]
        for size in (1, 2999, 3000):
            for index in (0, size // 2, size - 1):
                tree.inclusion(index, size)
            tree.consistency(max(1, size // 3), size)
    assert max(reads) <= 2 * 12  # ≤ 2·log₂(3000) primary-key lookups per proof
