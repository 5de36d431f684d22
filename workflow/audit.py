"""The tamper-evident audit trail: hash chains of events, and how to check one.

Every chain (one per campaign, one for directory imports) is a sequence 1, 2, 3 …
Each row's hash is the SHA-256 of its own content together with the previous
row's hash, so editing, deleting, inserting or reordering rows breaks the chain
at the first row touched. The chain head (last sequence number and hash) is kept
apart from the rows, so removing the last rows is caught too. Every row also
records the machine's clock when it was written (``written_at``, beside the
instant the act claims); those instants never go backwards along a chain.

A consistent rewrite (every later hash and the head recomputed) passes all of
that: only a head published outside the database catches it. An anchor line
(``anchor_line``) names a chain, a sequence number and its hash; ``parse_anchors``
finds such lines in any text (a mail, the public notice, an anchor file), and
verification checks each is still in the chain. Pure Python: the persistence
layer stores the rows, this module says what they must satisfy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

GENESIS = "0" * 64
DIRECTORY_CHAIN = "directories"
BEIJING = ZoneInfo("Asia/Shanghai")  # anchors are read by people: their instant in Beijing time


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
    written_at: datetime | None = None  # the machine's clock when written; None only for rows before schema 0007
    id: int | None = None


def content_hash(chain: str, seq: int, at: datetime, actor: str, action: str, campaign_code: str | None,
                 uscc: str | None, from_state: str | None, to_state: str | None, payload: str, prev_hash: str,
                 written_at: datetime | None = None) -> str:
    """SHA-256 (hex) of the UTF-8 of every field framed as ``<length>:<text>;`` (an empty field as ``-;``).

    The instant is written ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), the sequence number
    in decimal, the payload as stored (canonical JSON): anyone can re-derive it. A row
    with a written instant (every row since schema 0007) frames it, the same way, as a
    twelfth field after the previous hash; a row without one (written before) keeps
    the eleven-field formula it was sealed with.
    """
    seq_text, at_text = str(seq), instant_text(at)
    content = (f"{len(chain)}:{chain};{len(seq_text)}:{seq_text};{len(at_text)}:{at_text};{len(actor)}:{actor};"
               f"{len(action)}:{action};{_framed(campaign_code)}{_framed(uscc)}{_framed(from_state)}"
               f"{_framed(to_state)}{len(payload)}:{payload};{len(prev_hash)}:{prev_hash};")
    if written_at is not None:
        written_text = instant_text(written_at)
        content += f"{len(written_text)}:{written_text};"
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _framed(value: str | None) -> str:
    return "-;" if value is None else f"{len(value)}:{value};"


def seal(chain: str, seq: int, prev_hash: str, entry: Entry, written_at: datetime | None = None) -> SealedEntry:
    payload = canonical_json(entry.payload) if entry.payload else "{}"
    digest = content_hash(chain, seq, entry.at, entry.actor, entry.action, entry.campaign_code, entry.uscc,
                          entry.from_state, entry.to_state, payload, prev_hash, written_at)
    return SealedEntry(chain, seq, entry.at, entry.actor, entry.action, entry.campaign_code, entry.uscc,
                       entry.from_state, entry.to_state, payload, prev_hash, digest, written_at)


def seal_all(chain: str, last_seq: int, last_hash: str, entries: Iterable[Entry],
             written_at: datetime | None = None) -> list[SealedEntry]:
    """Seal ``entries`` after the chain's head; ``written_at`` is the machine's clock now (None: rows as before
    schema 0007, for tests of old chains only)."""
    sealed = []
    for entry in entries:
        last_seq += 1
        row = seal(chain, last_seq, last_hash, entry, written_at)
        last_hash = row.hash
        sealed.append(row)
    return sealed


@dataclass(frozen=True)
class ChainReport:
    chain: str
    rows: int
    head_hash: str
    problems: tuple[str, ...] = ()  # in Chinese, each naming the chain and the row's seq; empty when intact
    anchors: int = 0  # anchored (seq, hash) pairs checked against this chain

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> str | None:
        return self.problems[0] if self.problems else None


def verify_chain(chain: str, rows: Iterable[SealedEntry], head: tuple[int, str] | None,
                 anchors: Mapping[int, set[str]] | None = None) -> ChainReport:
    """Check one chain's rows (ordered by seq) against each other, against its head and against ``anchors``
    (seq → the hashes published for it: each must be the row's hash now).

    The first broken link ends the walk (what follows cannot be trusted); written
    instants that go backwards are each reported, and so is every anchor not matched."""
    expected_seq, prev = 1, GENESIS
    count = 0
    last_written: tuple[int, datetime] | None = None
    problems: list[str] = []
    anchors = anchors or {}

    def where(row: SealedEntry) -> str:
        return f"审计链 {chain} 第 {row.seq} 条（id={row.id}）"

    def done() -> ChainReport:
        for seq in sorted(s for s in anchors if s > count):
            problems.append(f"审计链 {chain} 第 {seq} 条：已锚定（公布）的记录不存在：锚定之后审计记录被删除或改写")
        return ChainReport(chain, count, prev, tuple(problems), sum(len(h) for h in anchors.values()))

    for row in rows:
        if row.seq != expected_seq:
            problems.append(f"{where(row)}：序号应为 {expected_seq}，实际为 {row.seq}：记录被删除、插入或次序被改动")
            return done()
        if row.prev_hash != prev:
            problems.append(f"{where(row)}：前一条的哈希与记录不符：记录被删除、插入或次序被改动")
            return done()
        recomputed = content_hash(row.chain, row.seq, row.at, row.actor, row.action, row.campaign_code, row.uscc,
                                  row.from_state, row.to_state, row.payload, row.prev_hash, row.written_at)
        if recomputed != row.hash:
            problems.append(f"{where(row)}：内容与其哈希不符：记录被修改或伪造")
            return done()
        for published in sorted(anchors.get(row.seq, ())):
            if published != row.hash:
                problems.append(f"{where(row)}：哈希为 {row.hash}，与已锚定（公布）的 {published} 不符："
                                "锚定之后审计记录被改写（其后各条的哈希与链头被一并重算）")
        if row.written_at is None:
            if last_written is not None:
                problems.append(f"{where(row)}：没有写入时刻，而第 {last_written[0]} 条有：写入时刻被删除")
        else:
            if last_written is not None and row.written_at < last_written[1]:
                problems.append(f"{where(row)}：写入时刻 {_beijing(row.written_at)} 早于第 {last_written[0]} 条的 "
                                f"{_beijing(last_written[1])}：写入时刻倒退（系统时钟被回拨，或记录被改动）")
            last_written = (row.seq, row.written_at)
        prev, expected_seq, count = row.hash, expected_seq + 1, count + 1
    if head is None:
        if count:
            problems.append(f"审计链 {chain}：缺少链头记录（audit_chains 被改动）")
        return done()
    head_seq, head_hash = head
    if (head_seq, head_hash) != (count, prev):
        problems.append(f"审计链 {chain}：链头记录为第 {head_seq} 条，实际最后一条为第 {count} 条"
                        f"{'（哈希不符）' if head_seq == count else ''}：末尾的记录被删除或追加")
    return done()


def _beijing(at: datetime) -> str:
    return f"{at.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}"


# --- anchors: a chain's head published outside the database ---------------------------------------------


class Anchor(NamedTuple):
    chain: str
    seq: int
    hash: str


def anchor_line(chain: str, seq: int, digest: str, at: datetime | None) -> str:
    """One chain head as people find it in a mail or a notice, and as ``parse_anchors`` reads it back:
    ``审计链 campaign:luquan-2019-h2 第 812 条 <64 hex>（2019-12-20 10:00）`` (the instant of the act it records,
    Beijing time)."""
    when = f"（{at.astimezone(BEIJING):%Y-%m-%d %H:%M}）" if at is not None else ""
    return f"审计链 {chain} 第 {seq} 条 {digest}{when}"


_ANCHOR = re.compile(r"审计链[ \t\u3000]*([^\s（(]+)[ \t\u3000]+第[ \t\u3000]*(\d+)[ \t\u3000]*条[ \t\u3000]*"
                     r"([0-9a-fA-F]{64})(?![0-9a-fA-F])")


def parse_anchors(text: str) -> list[Anchor]:
    """Every anchor line in ``text``, wherever it stands (a line of a mail, a paragraph of a page), each once."""
    found = dict.fromkeys(Anchor(m.group(1), int(m.group(2)), m.group(3).lower()) for m in _ANCHOR.finditer(text))
    return list(found)
