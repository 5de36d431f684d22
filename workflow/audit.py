"""The tamper-evident audit trail: hash chains of events, and how to check one.

Every chain (one per campaign, one for directory imports) is a sequence 1, 2, 3 …
Each row's hash is the SHA-256 of its own content together with the previous
row's hash, so editing, deleting, inserting or reordering rows breaks the chain
at the first row touched. The chain head (last sequence number and hash) is kept
apart from the rows, so removing the last rows is caught too. Pure Python: the
persistence layer stores the rows, this module says what they must satisfy.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple

GENESIS = "0" * 64
DIRECTORY_CHAIN = "directories"


def campaign_chain(code: str) -> str:
    return f"campaign:{code}"


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: object) -> str:
    """One text for one value: sorted keys, no spaces, Chinese kept as is."""
    return _CANONICAL.encode(value)


@functools.lru_cache(maxsize=4096)  # a batch of moves shares one instant
def instant_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit instants must be timezone-aware")
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Entry(NamedTuple):
    """What happened, as a writer states it; the chain fields are added when it is sealed."""

    action: str
    actor: str
    at: datetime  # the instant the act claims (aware); stored and hashed in UTC
    campaign_code: str | None = None
    uscc: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    """A transition's states; None for an act that moves nothing (an answer, a file, a notice)."""
    payload: dict | None = None


class SealedEntry(NamedTuple):
    """An entry as stored: its chain position, payload text and the two hashes."""

    chain: str
    seq: int
    at: datetime
    actor: str
    action: str
    campaign_code: str | None
    uscc: str | None
    from_state: str | None
    to_state: str | None
    payload: str
    prev_hash: str
    hash: str
    id: int | None = None


def content_hash(chain: str, seq: int, at: datetime, actor: str, action: str, campaign_code: str | None,
                 uscc: str | None, from_state: str | None, to_state: str | None, payload: str, prev_hash: str) -> str:
    """SHA-256 (hex) of the UTF-8 of every field framed as ``<length>:<text>;`` (an empty field as ``-;``).

    The instant is written ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), the sequence number
    in decimal, the payload as stored (canonical JSON): anyone can re-derive it.
    """
    seq_text, at_text = str(seq), instant_text(at)
    content = (f"{len(chain)}:{chain};{len(seq_text)}:{seq_text};{len(at_text)}:{at_text};{len(actor)}:{actor};"
               f"{len(action)}:{action};{_framed(campaign_code)}{_framed(uscc)}{_framed(from_state)}"
               f"{_framed(to_state)}{len(payload)}:{payload};{len(prev_hash)}:{prev_hash};")
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _framed(value: str | None) -> str:
    return "-;" if value is None else f"{len(value)}:{value};"


def seal(chain: str, seq: int, prev_hash: str, entry: Entry) -> SealedEntry:
    payload = canonical_json(entry.payload) if entry.payload else "{}"
    digest = content_hash(chain, seq, entry.at, entry.actor, entry.action, entry.campaign_code, entry.uscc,
                          entry.from_state, entry.to_state, payload, prev_hash)
    return SealedEntry(chain, seq, entry.at, entry.actor, entry.action, entry.campaign_code, entry.uscc,
                       entry.from_state, entry.to_state, payload, prev_hash, digest)


def seal_all(chain: str, last_seq: int, last_hash: str, entries: Iterable[Entry]) -> list[SealedEntry]:
    sealed = []
    for entry in entries:
        last_seq += 1
        row = seal(chain, last_seq, last_hash, entry)
        last_hash = row.hash
        sealed.append(row)
    return sealed


@dataclass(frozen=True)
class ChainReport:
    chain: str
    rows: int
    head_hash: str
    problem: str | None = None  # the first bad row, in Chinese; None when the chain is intact

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(chain: str, rows: Iterable[SealedEntry], head: tuple[int, str] | None) -> ChainReport:
    """Check one chain's rows (ordered by seq) against each other and against its head."""
    expected_seq, prev = 1, GENESIS
    count = 0

    def broken(row: SealedEntry, why: str) -> ChainReport:
        return ChainReport(chain, count, prev, f"审计链 {chain} 第 {row.seq} 条（id={row.id}）：{why}")

    for row in rows:
        if row.seq != expected_seq:
            return broken(row, f"序号应为 {expected_seq}，实际为 {row.seq}：记录被删除、插入或次序被改动")
        if row.prev_hash != prev:
            return broken(row, "前一条的哈希与记录不符：记录被删除、插入或次序被改动")
        recomputed = content_hash(row.chain, row.seq, row.at, row.actor, row.action, row.campaign_code, row.uscc,
                                  row.from_state, row.to_state, row.payload, row.prev_hash)
        if recomputed != row.hash:
            return broken(row, "内容与其哈希不符：记录被修改或伪造")
        prev, expected_seq, count = row.hash, expected_seq + 1, count + 1
    if head is None:
        if count:
            return ChainReport(chain, count, prev, f"审计链 {chain}：缺少链头记录（audit_chains 被改动）")
        return ChainReport(chain, 0, prev)
    head_seq, head_hash = head
    if (head_seq, head_hash) != (count, prev):
        return ChainReport(chain, count, prev,
                           f"审计链 {chain}：链头记录为第 {head_seq} 条，实际最后一条为第 {count} 条"
                           f"{'（哈希不符）' if head_seq == count else ''}：末尾的记录被删除或追加")
    return ChainReport(chain, count, prev)
