"""The enterprise draw, exactly as README documents it: ``ssj-draw-v2`` (every party commits), and ``ssj-draw-v1``.

``ssj-draw-v2`` — no single party can choose the sample:

1. Each party named in the campaign file (``[draw] parties``) draws a 32-byte secret on its own
   device (``ssj draw secret``) and hands over only ``commitment = sha256(secret)``.
2. Commit: the eligible snapshot is fixed — its lines are the eligible USCCs sorted by code
   point, or ``USCC\tSTRATUM`` sorted by USCC when the campaign has strata — and every
   party's commitment recorded; ``snapshot_sha256 = sha256("\n".join(lines))``. No secret is
   stored: nothing recorded lets anyone compute the sample.
3. Run (the public draw): every party reveals its secret, each checked against its commitment;
   the witness text is normalised (``normalise_witness``); ``seed = sha256("ssj-draw-v2\n" +
   snapshot_sha256 + "\n" + P1 + "=" + s1 + "\n" + … + Pk + "=" + sk + "\n" + witness)`` (parties
   in the file's order). The sample follows from the seed exactly as in v1 (below).

``ssj-draw-v1`` (draws recorded before v2, which still verify): one secret drawn by the office;
``seed = sha256(secret_hex + "\n" + witness + "\n" + snapshot_sha256)``. Both: ``rank(USCC) =
HMAC-SHA256(bytes.fromhex(seed), USCC)``; the sample is the n smallest ranks (ties by USCC),
n = ratio × eligible in ``Decimal``, rounded by the campaign's rule, clamped to
[min(minimum, eligible), eligible]; per stratum when there are strata.

Pure Python: no database, no clock (randomness is passed in).
"""

from __future__ import annotations

import hashlib
import unicodedata
import hmac
import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from workflow.campaign_plan import UNCLASSIFIED, Sampling

ALGORITHM = "ssj-draw-v1"
SECRET_BYTES = 32
_ROUNDING = {"ceil": ROUND_CEILING, "floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP}


class BadSecret(ValueError):
    """A secret given by hand that is not exactly 64 hex digits."""


def is_secret_hex(text: str) -> bool:
    """Exactly 64 hex digits (either case; stored and hashed in lower case)."""
    return len(text) == 2 * SECRET_BYTES and all(c in "0123456789abcdefABCDEF" for c in text)


def parse_secret(text: str) -> bytes:
    cleaned = text.strip()
    if not is_secret_hex(cleaned):
        raise BadSecret(f"密钥应为恰好 64 位十六进制数字（32 字节），实际为 {len(cleaned)} 个字符")
    return bytes.fromhex(cleaned)


def sample_size(eligible: int, ratio: Decimal, rounding: str, minimum: int) -> int:
    """n = ratio × eligible in Decimal, rounded by the rule, clamped to [min(minimum, eligible), eligible]."""
    n = int((ratio * eligible).to_integral_value(rounding=_ROUNDING[rounding]))
    return max(min(minimum, eligible), min(n, eligible))


def stratum_of(credit_risk: str | None) -> str:
    return credit_risk.strip() if credit_risk and credit_risk.strip() else UNCLASSIFIED


def snapshot_text(eligible: Iterable[tuple[str, str | None]], stratified: bool) -> str:
    """The exact bytes (as text) that are hashed and published: one line per eligible enterprise."""
    if stratified:
        return "\n".join(f"{u}\t{stratum_of(risk)}" for u, risk in sorted(eligible))
    return "\n".join(sorted(u for u, _ in eligible))


def parse_snapshot(text: str) -> list[tuple[str, str | None]]:
    """(USCC, stratum or None) per line of a stored snapshot."""
    if not text:
        return []
    out = []
    for line in text.split("\n"):
        uscc, _, stratum = line.partition("\t")
        out.append((uscc, stratum or None))
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commitment(secret: bytes) -> str:
    return sha256_hex(secret)


def seed(secret_hex: str, witness: str, snapshot_sha256: str) -> str:
    return sha256_hex(f"{secret_hex}\n{witness}\n{snapshot_sha256}".encode("utf-8"))


# --- ssj-draw-v2: every named party commits to its own secret ---------------------------------

ALGORITHM_V2 = "ssj-draw-v2"


def normalise_witness(text: str) -> str:
    """The witness text as used, stored and published: NFKC, each run of whitespace one space, trimmed.

    So two texts a person cannot tell apart (a trailing space, a full-width letter) are one text:
    whoever types it cannot try invisible variants until the sample suits them."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def seed_v2(prefix: str, snapshot_sha256: str, reveals: Sequence[tuple[str, str]], witness: str) -> str:
    """``sha256(prefix + "\\n" + snapshot_sha256 + "\\n" + P1 + "=" + s1 + "\\n" + … + Pk + "=" + sk + "\\n" + witness)``.

    ``prefix`` is the algorithm's name (``ssj-draw-v2`` or ``ssj-match-v2``), ``reveals`` the parties'
    (name, secret hex in lower case) in the campaign file's order, ``witness`` already normalised."""
    lines = [prefix, snapshot_sha256, *(f"{party}={secret_hex}" for party, secret_hex in reveals), witness]
    return sha256_hex("\n".join(lines).encode("utf-8"))


def rank(seed_hex: str, uscc: str) -> str:
    return hmac.digest(bytes.fromhex(seed_hex), uscc.encode("utf-8"), "sha256").hex()


def _ranks(seed_hex: str, usccs: Iterable[str]) -> list[bytes]:
    """rank() for many USCCs, as raw digests (their hex order is their byte order).

    HMAC-SHA256 written out as RFC 2104 defines it — sha256((K ⊕ opad) ‖ sha256((K ⊕ ipad) ‖ m))
    with the two padded-key states prepared once and copied per USCC: the same values
    as ``hmac.digest`` (the tests check), at a third of the cost over 100,000 enterprises.
    """
    key = bytes.fromhex(seed_hex)
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    out = []
    for u in usccs:
        i = inner.copy()
        i.update(u.encode("utf-8"))
        o = outer.copy()
        o.update(i.digest())
        out.append(o.digest())
    return out


@dataclass(frozen=True)
class DrawResult:
    eligible: int
    sample_size: int
    sampled: tuple[str, ...]  # in rank order
    strata: dict[str, dict[str, int]] = field(default_factory=dict)  # stratum → {eligible, sample_size}


def draw(snapshot: Sequence[tuple[str, str | None]], seed_hex: str, sampling: Sampling) -> DrawResult:
    """The sample from a snapshot and a seed (``ssj-draw-v1``)."""
    ranked = list(zip(_ranks(seed_hex, (u for u, _ in snapshot)), (u for u, _ in snapshot),
                      (s for _, s in snapshot)))
    if not sampling.strata:
        n = sample_size(len(ranked), sampling.ratio, sampling.rounding, sampling.minimum)
        chosen = heapq.nsmallest(n, ranked, key=lambda r: (r[0], r[1]))
        return DrawResult(len(ranked), n, tuple(u for _, u, _ in chosen))
    ratios = {s.credit_risk: s.ratio for s in sampling.strata}
    groups: dict[str, list] = defaultdict(list)
    for r in ranked:
        groups[r[2] or UNCLASSIFIED].append(r)
    chosen, strata = [], {}
    for stratum in sorted(groups):
        members = groups[stratum]
        n = sample_size(len(members), ratios.get(stratum, sampling.ratio), sampling.rounding, sampling.minimum)
        chosen += heapq.nsmallest(n, members, key=lambda r: (r[0], r[1]))
        strata[stratum] = {"eligible": len(members), "sample_size": n}
    chosen.sort(key=lambda r: (r[0], r[1]))
    return DrawResult(len(ranked), len(chosen), tuple(u for _, u, _ in chosen), strata)


# --- ssj-draw-v2: the parties' values on the command line -----------------------------------------


class BadPartyValues(ValueError):
    """``PARTY=HEX`` values that do not fit the campaign's parties: every problem, one line each (Chinese)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def new_secret(random_bytes: Callable[[int], bytes]) -> tuple[str, str]:
    """A party's fresh secret and its commitment, both hex: what ``ssj draw secret`` prints."""
    secret = random_bytes(SECRET_BYTES)
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"the random source gave {len(secret)} bytes, not {SECRET_BYTES}")
    return secret.hex(), commitment(secret)


def commitment_of(secret_hex: str) -> str:
    """sha256 of the secret's 32 bytes (not of its hex text), lower-case hex."""
    return commitment(bytes.fromhex(secret_hex))


def party_values(items: Sequence[str], parties: Sequence[str], option: str) -> dict[str, str]:
    """``PARTY=HEX`` items → {party: lower-case hex}, in the campaign file's party order.

    Refused (``BadPartyValues``, each problem naming the item): no ``=``, a party the campaign does
    not name, a party given twice, a value that is not exactly 64 hex digits. Missing parties are the
    caller's judgement (at commit an error, at the run a postponement)."""
    problems, given = [], {}
    for item in items:
        party, sep, value = item.partition("=")
        party, value = party.strip(), value.strip()
        if not sep:
            problems.append(f"{option} “{item}”：应写作 参与方=64位十六进制值")
        elif party not in parties:
            problems.append(f"{option} “{party}”：不是本任务的抽取参与方（[draw] parties：{'、'.join(parties)}）")
        elif party in given:
            problems.append(f"{option} “{party}”：同一参与方给出了两次")
        elif not is_secret_hex(value):
            problems.append(f"{option} “{party}”：值应为恰好 64 位十六进制数字（32 字节），实际为 {len(value)} 个字符")
        else:
            given[party] = value.lower()
    if problems:
        raise BadPartyValues(problems)
    return {party: given[party] for party in parties if party in given}


def unmatched_reveals(reveals: dict[str, str], commitments: dict[str, str]) -> list[str]:
    """The parties whose revealed secret does not hash to their recorded commitment, in the given order."""
    return [party for party, secret_hex in reveals.items() if commitment_of(secret_hex) != commitments.get(party)]
