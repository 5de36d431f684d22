"""``ssj-draw-v1`` and ``ssj-draw-v2`` against independent implementations written from the issues' text."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.campaign_file import Sampling, Stratum
from workflow.draw import (ALGORITHM_V2, BadPartyValues, BadSecret, commitment_of, draw, new_secret, normalise_witness,
                           parse_secret, parse_snapshot, party_values, sample_size, seed, seed_v2, snapshot_text,
                           unmatched_reveals)
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


# --- ssj-draw-v2 ------------------------------------------------------------------------------------

PARTIES = ("区市场监管局", "区纪委监委派驻纪检监察组")


def reference_seed_v2(snapshot_sha256, reveals, witness):
    """Issue 16's words: NFKC, every run of whitespace one space, trimmed; then sha256 hex of the UTF-8 bytes of
    "ssj-draw-v2\\n" + snapshot_sha256 + "\\n" + P1 + "=" + s1 + "\\n" + … + Pk + "=" + sk + "\\n" + witness."""
    import re
    import unicodedata

    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", witness)).strip()
    message = "ssj-draw-v2\n" + snapshot_sha256 + "\n"
    for party, secret in reveals:
        message += party + "=" + secret + "\n"
    return hashlib.sha256((message + text).encode("utf-8")).hexdigest()


@settings(max_examples=60, deadline=None)
@given(secrets=st.lists(st.binary(min_size=32, max_size=32), min_size=2, max_size=4),
       witness=st.text(max_size=40), n=st.integers(1, 300))
def test_the_v2_seed_and_sample_agree_with_the_reference(secrets, witness, n):
    parties = [f"参与方{i}" for i in range(len(secrets))]
    reveals = [(p, s.hex()) for p, s in zip(parties, secrets)]
    eligible = [(u, None) for u in usccs(n, 5)]
    text = snapshot_text(eligible, False)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    the_seed = seed_v2(ALGORITHM_V2, sha, reveals, normalise_witness(witness))
    assert the_seed == reference_seed_v2(sha, reveals, witness)
    sampling = replace(BASE, ratio=Decimal("0.05"), ratio_text="5%")
    # from the seed on, v2 is v1's rule: the reference's ranks, n and ties
    ranked = sorted((u for u, _ in eligible),
                    key=lambda u: (hmac.new(bytes.fromhex(the_seed), u.encode(), hashlib.sha256).hexdigest(), u))
    expected_n = max(min(1, n), min(int((Decimal("0.05") * n).to_integral_value(ROUND_CEILING)), n))
    assert list(draw(parse_snapshot(text), the_seed, sampling).sampled) == ranked[:expected_n]


def test_the_parties_order_and_every_secret_change_the_seed():
    reveals = [(PARTIES[0], "11" * 32), (PARTIES[1], "22" * 32)]
    base = seed_v2(ALGORITHM_V2, "ab" * 32, reveals, "w")
    assert seed_v2(ALGORITHM_V2, "ab" * 32, reveals[::-1], "w") != base
    assert seed_v2(ALGORITHM_V2, "ab" * 32, [reveals[0], (PARTIES[1], "23" + "22" * 31)], "w") != base
    assert seed_v2("ssj-match-v2", "ab" * 32, reveals, "w") != base


@pytest.mark.parametrize("variant", [
    "见证人:王某 2019-11-27 骰子 3-6-1", "  见证人:王某 2019-11-27 骰子 3-6-1  ", "见证人:王某\t2019-11-27\n骰子 3-6-1",
    "见证人：王某\u30002019-11-27\u00a0骰子\u20033-6-1", "见证人:王某 ２０１９-１１-２７ 骰子 ３-６-１",
    "见证人:王某    2019-11-27\r\n\r\n骰子 3-6-1"])
def test_witness_variants_normalise_to_one_text_and_one_seed(variant):
    """What the grinding attack tried (trailing spaces and the like) yields one text, so one seed."""
    assert normalise_witness(variant) == "见证人:王某 2019-11-27 骰子 3-6-1"
    reveals = [(PARTIES[0], "11" * 32), (PARTIES[1], "22" * 32)]
    assert seed_v2(ALGORITHM_V2, "ab" * 32, reveals, normalise_witness(variant)) == \
        seed_v2(ALGORITHM_V2, "ab" * 32, reveals, "见证人:王某 2019-11-27 骰子 3-6-1")


def test_a_secret_and_its_commitment():
    secret, commitment = new_secret(lambda n: bytes(range(n)))
    assert secret == bytes(range(32)).hex()
    assert commitment == hashlib.sha256(bytes(range(32))).hexdigest() == commitment_of(secret)
    assert commitment != hashlib.sha256(secret.encode()).hexdigest(), "of the 32 bytes, not of their hex text"
    with pytest.raises(ValueError):
        new_secret(lambda n: b"short")


def test_party_values_follow_the_file_order_in_lower_case():
    items = [f"{PARTIES[1]}=" + "AB" * 32, f" {PARTIES[0]} = " + "cd" * 32]
    assert list(party_values(items, PARTIES, "--commitment").items()) == [
        (PARTIES[0], "cd" * 32), (PARTIES[1], "ab" * 32)]
    assert party_values([f"{PARTIES[0]}=" + "cd" * 32], PARTIES, "--reveal") == {PARTIES[0]: "cd" * 32}


@pytest.mark.parametrize("items, named", [
    (["某某局=" + "ab" * 32], "某某局"), ([f"{PARTIES[0]}=" + "ab" * 32, f"{PARTIES[0]}=" + "cd" * 32], PARTIES[0]),
    ([f"{PARTIES[0]}=" + "ab" * 31], PARTIES[0]), ([f"{PARTIES[0]}=" + "gg" * 32], PARTIES[0]), (["ab" * 32], "ab"),
])
def test_party_values_name_each_bad_item(items, named):
    with pytest.raises(BadPartyValues) as caught:
        party_values(items, PARTIES, "--reveal")
    assert len(caught.value.problems) == 1 and named in caught.value.problems[0]


def test_a_reveal_must_open_its_commitment():
    secrets = {PARTIES[0]: "11" * 32, PARTIES[1]: "22" * 32}
    commitments = {p: commitment_of(s) for p, s in secrets.items()}
    assert unmatched_reveals(secrets, commitments) == []
    assert unmatched_reveals({**secrets, PARTIES[1]: "23" + "22" * 31}, commitments) == [PARTIES[1]]
    assert unmatched_reveals({PARTIES[0]: secrets[PARTIES[1]]}, commitments) == [PARTIES[0]], "another's secret"
