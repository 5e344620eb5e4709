"""The audit log's hash chain: the canonical encoding of an entry, its hash, and checking a chain.

hash(n) = SHA-256 over the canonical JSON of [seq, time, time_trusted, event, fields, prev_hash], where
prev_hash is hash(n-1) (64 zeros for the first entry). Editing any entry changes its hash; removing or
reordering entries breaks seq continuity or a prev_hash link. Removing the newest entries (or the whole
file) leaves a valid shorter chain: only a head remembered elsewhere (the fleet monitor, `--expect-head`)
can show that, which is why the head goes out with the fleet state.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
_HEAD_RE = re.compile(r"^([1-9][0-9]{0,17}):([0-9a-f]{64})$")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(seq: int, time: str, trusted: bool, event: str, fields: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical([seq, time, trusted, event, fields, prev_hash]).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    seq: int
    time: str
    time_trusted: bool
    event: str
    fields: dict[str, Any]
    prev_hash: str
    hash: str

    def flat(self) -> dict[str, Any]:
        """The entry as one dict (fields beside seq/time/event), as the maintenance screen's callers see it."""
        return {**self.fields, "seq": self.seq, "time": self.time, "time_trusted": self.time_trusted,
                "event": self.event}


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        m = _HEAD_RE.match(text.strip())
        if not m:
            raise ValueError(f"not a head {text[:80]!r}: expected SEQ:HASH (a number, a colon, 64 hex digits)")
        return cls(int(m.group(1)), m.group(2))


@dataclass(frozen=True)
class Problem:
    seq: int  # the first entry that is wrong (or missing)
    reason: str


def check(rows: Iterable[tuple[Any, ...]], expect: Head | None = None) -> tuple[int, Head | None, Problem | None]:
    """Walk raw rows (seq, time, time_trusted, event, fields_json, prev_hash, hash) in stored order.
    Returns (entries checked, head, first problem or None)."""
    prev, want_seq, count, head = GENESIS, 1, 0, None
    for seq, time, trusted, event, fields_json, prev_hash, stored in rows:
        if seq != want_seq:
            if isinstance(seq, int) and seq > want_seq:
                return count, head, Problem(want_seq, f"entry {want_seq} is missing (the next one is {seq})")
            return count, head, Problem(want_seq, f"entry {want_seq} is out of order (found seq {seq})")
        try:
            fields = json.loads(fields_json)
            if not isinstance(fields, dict):
                raise ValueError("fields are not an object")
            computed = entry_hash(seq, time, bool(trusted), event, fields, prev_hash)
        except (ValueError, TypeError):
            return count, head, Problem(seq, f"entry {seq} is unreadable (its fields are not valid JSON)")
        if prev_hash != prev:
            return count, head, Problem(seq, f"entry {seq} does not follow entry {seq - 1} (prev_hash differs)")
        if computed != stored:
            return count, head, Problem(seq, f"entry {seq} was altered (its hash does not match its contents)")
        if expect is not None and seq == expect.seq and stored != expect.hash:
            return count, head, Problem(seq, f"entry {seq} is not the one expected (another hash: the log "
                                             "was rewritten from here)")
        prev, want_seq, count, head = stored, seq + 1, count + 1, Head(seq, stored)
    if expect is not None and (head is None or head.seq < expect.seq):
        last = head.seq if head else 0
        return count, head, Problem(last + 1, f"the log ends at entry {last}, before the expected head "
                                              f"{expect.seq}: entries {last + 1}..{expect.seq} were removed")
    return count, head, None
