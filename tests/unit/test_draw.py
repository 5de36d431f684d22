"""``ssj-draw-v1`` against an independent implementation written from the issue's text."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.campaign_file import Sampling, Stratum
from workflow.draw import BadSecret, draw, parse_secret, parse_snapshot, sample_size, seed, snapshot_text
from workflow.uscc import make

BASE = Sampling(categories=("内资企业",), statuses=("存续",), capital_min=None, capital_max=None,
                ratio=Decimal("0.01"), ratio_text="1%", rounding="ceil", minimum=1, exclude_inspected_within_days=None)


def reference(usccs_with_risk, secret_hex, witness, ratio_text, rounding, minimum, strata=None):
    """Written from the issue's wording only: no product code."""
    def ratio_of(text):
        return Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)

    if strata is None:
        lines = sorted(u for u, _ in usccs_with_risk)
    else:
        lines = [f"{u}\t{r or '未分类'}" for u, r in sorted(usccs_with_risk)]
    snapshot_sha256 = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    the_seed = hashlib.sha256(f"{secret_hex}\n{witness}\n{snapshot_sha256}".encode("utf-8")).hexdigest()

    def rank(u):
        return hmac.new(bytes.fromhex(the_seed), u.encode("utf-8"), hashlib.sha256).hexdigest()

    def n_of(eligible, text):
        mode = {"ceil": ROUND_CEILING, "floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP}[rounding]
        n = int((ratio_of(text) * eligible).quantize(Decimal(1), rounding=mode))
        return max(min(minimum, eligible), min(n, eligible))

    groups = {}
    for u, r in usccs_with_risk:
        groups.setdefault("*" if strata is None else (r or "未分类"), []).append(u)
    chosen = []
    for name, members in groups.items():
        text = ratio_text if strata is None else strata.get(name, ratio_text)
        chosen += sorted(members, key=lambda u: (rank(u), u))[:n_of(len(members), text)]
    return snapshot_sha256, the_seed, sorted(chosen, key=lambda u: (rank(u), u))


def usccs(n, seed_value=1):
    import random

    rng = random.Random(seed_value)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return sorted({make("91", "130110", "".join(rng.choice(alphabet[:10]) for _ in range(8))) for _ in range(n)})


SECRET = "00" * 31 + "ff"


def product(eligible, witness, sampling):
    text = snapshot_text(eligible, bool(sampling.strata))
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    the_seed = seed(SECRET, witness, sha)
    return sha, the_seed, list(draw(parse_snapshot(text), the_seed, sampling).sampled)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 400), witness=st.text(max_size=30), ratio=st.sampled_from(["1%", "0.05", "12.5%", "0.333"]),
       rounding=st.sampled_from(["ceil", "floor", "half_up"]), minimum=st.integers(0, 5))
def test_the_product_agrees_with_the_reference(n, witness, ratio, rounding, minimum):
    eligible = [(u, None) for u in usccs(n)]
    ratio_value = Decimal(ratio[:-1]) / 100 if ratio.endswith("%") else Decimal(ratio)
    sampling = replace(BASE, ratio=ratio_value, ratio_text=ratio, rounding=rounding, minimum=minimum)
    assert product(eligible, witness, sampling) == reference(eligible, SECRET, witness, ratio, rounding, minimum)


def test_stratified_draws_agree_with_the_reference():
    risks = ["A", "B", "C", "", None]
    eligible = [(u, risks[i % 5]) for i, u in enumerate(usccs(300, 2))]
    sampling = replace(BASE, ratio=Decimal("0.1"), ratio_text="10%", strata=(Stratum("C", Decimal("0.5")),))
    sha, the_seed, sampled = product(eligible, "见证人：张三 2019-11-27", sampling)
    assert (sha, the_seed, sampled) == reference(eligible, SECRET, "见证人：张三 2019-11-27", "10%", "ceil", 1,
                                                 strata={"C": "50%"})
    result = draw(parse_snapshot(snapshot_text(eligible, True)), the_seed, sampling)
    assert result.strata["C"] == {"eligible": 60, "sample_size": 30}
    assert result.strata["未分类"]["eligible"] == 120, "empty and missing credit risks are 未分类"


def test_snapshot_lines_are_exact():
    assert snapshot_text([("B2", "C"), ("A1", None)], False) == "A1\nB2"
    assert snapshot_text([("B2", "C"), ("A1", " ")], True) == "A1\t未分类\nB2\tC"


@pytest.mark.parametrize("eligible, ratio, rounding, minimum, expected", [
    (2613, "0.01", "ceil", 1, 27), (2613, "0.01", "floor", 1, 26), (2650, "0.01", "half_up", 1, 27),
    (2649, "0.01", "half_up", 1, 26), (10, "0.01", "floor", 0, 0), (10, "0.01", "floor", 3, 3),
    (2, "0.01", "ceil", 5, 2), (0, "0.01", "ceil", 1, 0), (100, "1", "ceil", 1, 100),
    (3, "0.1", "half_up", 0, 0), (5, "0.1", "half_up", 0, 1),  # 0.5 rounds up, never to even
])
def test_sample_size_in_decimal(eligible, ratio, rounding, minimum, expected):
    assert sample_size(eligible, Decimal(ratio), rounding, minimum) == expected


def test_determinism_and_sensitivity_to_every_input():
    eligible = [(u, None) for u in usccs(500, 3)]
    sampling = replace(BASE, ratio=Decimal("0.05"))
    first = product(eligible, "甲", sampling)
    assert product(eligible, "甲", sampling) == first
    assert product(eligible, "乙", sampling)[2] != first[2]
    assert product(eligible[1:], "甲", sampling)[0] != first[0]


@pytest.mark.parametrize("text", ["ab", "g" * 64, "0" * 63, "0" * 65, " " + "0" * 62 + " "])
def test_a_hand_given_secret_must_be_64_hex_digits(text):
    with pytest.raises(BadSecret):
        parse_secret(text)
    assert parse_secret("AB" * 32) == bytes([0xAB] * 32)


def test_the_batch_ranks_are_hmac_sha256():
    from workflow.draw import _ranks, rank

    for seed_hex in ("00" * 32, "ff" * 32, "0123456789abcdef" * 4, "ab" * 80):
        names = ["91130110MA0000000X", "", "统一社会信用代码"]
        assert [r.hex() for r in _ranks(seed_hex, names)] == [
            hmac.new(bytes.fromhex(seed_hex), n.encode(), hashlib.sha256).hexdigest() for n in names]
        assert [r.hex() for r in _ranks(seed_hex, names[:1])] == [rank(seed_hex, names[0])]
