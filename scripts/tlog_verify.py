"""Check a CareLedger log offline, trusting nothing but a verifier key you kept.

Needs only Python 3.11+ and `cryptography`; imports nothing else of CareLedger, so it may be
copied alone and run as ``python -m tlog_verify …`` (or ``python tlog_verify.py …``):

    tlog_verify checkpoint  --key KEY CHECKPOINT
    tlog_verify inclusion   --key KEY --checkpoint CHECKPOINT --entry ENTRY.json --proof PROOF.json
    tlog_verify consistency --key KEY --old KEPT_CHECKPOINT --new CHECKPOINT --proof PROOF.json
    tlog_verify bundle      --key KEY [--kept KEPT_CHECKPOINT] DIR

KEY is a signed-note verifier key (``name+hexid+base64``) or a file of them, one a line (keep
retired keys: old checkpoints stay signed by them); ``--key`` may be repeated. A CHECKPOINT is a
C2SP signed note (tlog-checkpoint), as text or inside JSON as ``signed_note``. ENTRY and PROOF
are the JSON of ``GET /v1/audit/entries/{i}`` and ``…/{i}/proof``; a consistency PROOF that of
``GET /v1/audit/consistency``. Hashing and proofs are RFC 9162 §2.1. Exit 0: every check passed;
1: a check failed (one line says which); 2: unreadable input.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DASH = "\u2014 "  # a signature line begins with an em dash and a space


class CheckFailedError(Exception):
    """A check failed: the message is the one line to print."""


def b64(text: str, size: int | None = None) -> bytes:
    """Strict, canonical base64: any other spelling of the same bytes is refused."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise CheckFailedError(f"not base64: {text[:20]!r}") from error
    if base64.b64encode(raw).decode() != text or (size is not None and len(raw) != size):
        raise CheckFailedError(f"not canonical base64 of {size or len(raw)} bytes: {text[:20]!r}")
    return raw


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- RFC 9162 §2.1.3.2 and §2.1.4.2 -----------------------------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    if not 0 <= index < size:
        raise CheckFailedError(f"leaf index {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise CheckFailedError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise CheckFailedError("the inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise CheckFailedError(f"leaf {index} is not included in the tree of {size}: root differs")


def verify_consistency(first: int, second: int, proof: list[bytes], old: bytes, new: bytes) -> None:
    if not 0 < first <= second:
        raise CheckFailedError(f"no consistency proof from {first} to {second}")
    if first == second:
        if proof or old != new:
            raise CheckFailedError(f"two different trees of size {first}")
        return
    if not proof:
        raise CheckFailedError("the consistency proof is empty")
    path = [old, *proof] if first & (first - 1) == 0 else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise CheckFailedError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old or sr != new:
        raise CheckFailedError(f"the tree of {second} does not extend the kept tree of {first}")


# --- signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint) -----------


def parse_key(text: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """A verifier key ``name+hexid+base64(0x01 ‖ public key)``; its id must be its own."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not parts[0] or len(parts[1]) != 8:
        raise CheckFailedError(f"not a verifier key: {text.strip()[:40]!r}")
    try:
        key_id = bytes.fromhex(parts[1])
    except ValueError:
        raise CheckFailedError(f"not a verifier key id: {parts[1]!r}") from None
    name, raw = parts[0], b64(parts[2], 33)
    if raw[0] != 1:
        raise CheckFailedError(f"verifier key {name} is not Ed25519")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4] != key_id:
        raise CheckFailedError(f"verifier key {name}: the key id does not match the key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def verify_note(note: str, keys: list[str]) -> tuple[str, str]:
    """The note's text and the name of the kept key that signed it; any signature by a kept key
    that does not verify is a failure, and at least one must."""
    if any(ord(c) < 0x20 and c != "\n" for c in note) or "\n\n" not in note:
        raise CheckFailedError("not a signed note")
    cut = note.rindex("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 :]
    if not lines.endswith("\n"):
        raise CheckFailedError("not a signed note: the signatures do not end with a newline")
    trusted = {(n, i): k for n, i, k in (parse_key(t) for t in keys)}
    signer = None
    for line in lines[:-1].split("\n"):
        fields = line.removeprefix(DASH).split(" ")
        if not line.startswith(DASH) or len(fields) != 2:
            raise CheckFailedError(f"not a signature line: {line[:40]!r}")
        blob = b64(fields[1])
        key = trusted.get((fields[0], blob[:4]))
        if key is None:
            continue  # a signature by someone else: neither trusted nor refused
        try:
            key.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise CheckFailedError(f"the signature by {fields[0]} does not verify") from None
        signer = fields[0]
    if signer is None:
        raise CheckFailedError("no signature by a kept verifier key")
    return text, signer


def parse_checkpoint(note: str, keys: list[str]) -> tuple[str, int, bytes]:
    """(origin, tree size, root hash) of a checkpoint signed by a kept key for its own origin."""
    text, signer = verify_note(note, keys)
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise CheckFailedError("not a checkpoint: origin, size and root hash lines expected")
    origin, size = lines[0], lines[1]
    if origin != signer:
        raise CheckFailedError(f"checkpoint of {origin!r} signed by the key of {signer!r}")
    if not size.isdigit() or not size.isascii() or (size != "0" and size.startswith("0")):
        raise CheckFailedError(f"not a tree size: {size!r}")
    return origin, int(size), b64(lines[2], 32)


def decode_leaf(leaf: bytes) -> dict[str, Any]:
    """The fields of CareLedger leaf bytes (format 1; see ``projections/merkle.py``)."""
    try:
        if leaf[0] != 1:
            raise CheckFailedError("unknown leaf format")
        position, n = struct.unpack_from(">QI", leaf, 1)
        agg, at = leaf[13 : 13 + n], 13 + n
        version, n = struct.unpack_from(">QI", leaf, at)
        topic, at = leaf[at + 12 : at + 12 + n], at + 12 + n
        (n,) = struct.unpack_from(">I", leaf, at)
        if at + 4 + n != len(leaf):
            raise CheckFailedError("leaf bytes: lengths do not add up")
        return {"position": position, "aggregate_id": agg.decode(), "version": version,
                "topic": topic.decode(), "state_bytes": n}  # fmt: skip
    except (struct.error, IndexError, UnicodeDecodeError) as error:
        raise CheckFailedError("leaf bytes: not a CareLedger leaf") from error


# --- files and the command line ----------------------------------------------------------------


def read_keys(values: list[str]) -> list[str]:
    keys: list[str] = []
    for value in values:
        path = Path(value)
        text = path.read_text(encoding="utf-8") if "+" not in value or path.exists() else value
        keys.extend(line.split()[0] for line in text.splitlines() if line.strip())
    return keys


def read_note(path: str) -> str:
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        note = json.loads(text).get("signed_note")
        if not isinstance(note, str):
            raise CheckFailedError(f"{path}: no signed_note")
        return note
    return text


def read_json(path: str) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CheckFailedError(f"{path}: not a JSON object")
    return data


def whole(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if type(value) is not int or value < 0:
        raise CheckFailedError(f"{name}: not a whole number")
    return value


def hashes(data: dict[str, Any]) -> list[bytes]:
    values = data.get("hashes")
    if not isinstance(values, list) or not all(isinstance(h, str) for h in values):
        raise CheckFailedError("hashes: a list of base64 strings expected")
    return [b64(h, 32) for h in values]


def check_checkpoint(keys: list[str], path: str) -> tuple[str, int, bytes]:
    origin, size, root = parse_checkpoint(read_note(path), keys)
    print(f"ok: checkpoint of {origin}, {size} entries, root {root.hex()}")
    return origin, size, root


def check_entry(keys: list[str], checkpoint: str, entry: str, proof: str) -> None:
    _, size, root = parse_checkpoint(read_note(checkpoint), keys)
    e, p = read_json(entry), read_json(proof)
    index, leaf = whole(e, "leaf_index"), b64(str(e.get("leaf")))
    fields = decode_leaf(leaf)
    if fields["position"] != whole(e, "position") or whole(p, "leaf_index") != index:
        raise CheckFailedError(
            f"entry {index}: its position or index differs from its leaf or proof"
        )
    if whole(p, "tree_size") != size:
        raise CheckFailedError(
            f"entry {index}: proof for size {p['tree_size']}, checkpoint of {size}"
        )
    verify_inclusion(index, size, leaf_hash(leaf), hashes(p), root)
    print(f"ok: entry {index} (position {fields['position']}, {fields['aggregate_id']}"
          f"/{fields['version']}) is in the checkpoint of {size}")  # fmt: skip


def check_consistency(keys: list[str], old: str, new: str, proof: str) -> None:
    origin, first, first_root = parse_checkpoint(read_note(old), keys)
    origin2, second, second_root = parse_checkpoint(read_note(new), keys)
    p = read_json(proof)
    if origin != origin2 or (whole(p, "from"), whole(p, "to")) != (first, second):
        raise CheckFailedError(
            f"proof from {p.get('from')} to {p.get('to')}, checkpoints {first}, {second}"
        )
    verify_consistency(first, second, hashes(p), first_root, second_root)
    print(f"ok: the log of {second} entries extends the kept checkpoint of {first}")


def check_bundle(keys: list[str], folder: str, kept: str | None) -> None:
    base = Path(folder)
    checkpoint = str(base / "checkpoint")
    check_checkpoint(keys, checkpoint)
    for entry in sorted(base.glob("entry-*.json")):
        proof = entry.with_name("proof-" + entry.name.removeprefix("entry-"))
        check_entry(keys, checkpoint, str(entry), str(proof))
    if kept is not None:
        check_consistency(keys, kept, checkpoint, str(base / "consistency.json"))


def one_line(error: BaseException, limit: int = 200) -> str:
    """An error as one short line: input may be long, or hold line breaks, of its own."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tlog_verify", description=__doc__.split("\n")[0])
    parser.add_argument("--key", action="append", required=True, help="verifier key or file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("checkpoint").add_argument("checkpoint")
    inc = sub.add_parser("inclusion")
    for name in ("--checkpoint", "--entry", "--proof"):
        inc.add_argument(name, required=True)
    con = sub.add_parser("consistency")
    for name in ("--old", "--new", "--proof"):
        con.add_argument(name, required=True)
    bun = sub.add_parser("bundle")
    bun.add_argument("folder")
    bun.add_argument("--kept", help="the checkpoint you kept from before")
    args = parser.parse_args(argv)
    try:
        keys = read_keys(args.key)
        if args.command == "checkpoint":
            check_checkpoint(keys, args.checkpoint)
        elif args.command == "inclusion":
            check_entry(keys, args.checkpoint, args.entry, args.proof)
        elif args.command == "consistency":
            check_consistency(keys, args.old, args.new, args.proof)
        else:
            check_bundle(keys, args.folder, args.kept)
    except CheckFailedError as failure:
        print(f"FAILED: {one_line(failure)}", file=sys.stderr)
        return 1
    except (OSError, ValueError, RecursionError) as error:  # RecursionError: JSON nested deep
        print(f"unreadable input: {one_line(error)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
