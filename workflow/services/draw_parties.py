"""What both randoms ask of their parties (``ssj-draw-v2`` and ``ssj-match-v2``): one commitment from each
named party at the commit, each secret opening its commitment at the run, a witness text that is not empty
once normalised. One module so that the enterprise draw and the officer draw refuse the same input alike."""

from __future__ import annotations

from collections.abc import Sequence

from workflow import draw as algorithm
from workflow.errors import UserError
from workflow.identity import require_office


def party_values(plan, items: Sequence[str], option: str, *, all_required: bool) -> dict[str, str]:
    """``PARTY=HEX`` items checked against the campaign's parties ({party: lower-case hex}, the file's order)."""
    try:
        given = algorithm.party_values(items, plan.draw_parties, option)
    except algorithm.BadPartyValues as exc:
        raise UserError(exc.problems[0], exc.problems) from None
    missing = [p for p in plan.draw_parties if p not in given]
    if all_required and missing:
        raise UserError(f"{option}：缺少参与方 {'、'.join(missing)} 的值（每个参与方各一个：{'、'.join(plan.draw_parties)}）")
    return given


def commitments(plan, items: Sequence[str], v1: str) -> dict[str, str]:
    """Exactly one commitment per named party, each its own (two parties with one value did not each draw a
    secret). A campaign stored before v2 (no ``[draw] parties``) takes none: the office's secret, as ``v1``."""
    if not plan.draw_parties:
        if items:
            raise UserError(f"抽查任务“{plan.code}”创建于 v2 之前（任务文件没有 [draw] parties），"
                            f"仍按 {v1} 由办公室抽取密钥：不用 --commitment")
        return {}
    given = party_values(plan, items, "--commitment", all_required=True)
    seen: dict[str, str] = {}
    for party, value in given.items():
        if value in seen:
            raise UserError(f"--commitment “{party}”：与“{seen[value]}”的承诺值相同；各参与方须各自生成密钥（ssj draw secret）")
        seen[value] = party
    return given


def reveals(plan, recorded_parties: Sequence[dict], items: Sequence[str]) -> dict[str, str]:
    """The secrets revealed now ({party: hex}, the file's order; some parties may be missing — the caller
    postpones). A secret that does not hash to its party's recorded commitment is refused naming the party."""
    given = party_values(plan, items, "--reveal", all_required=False)
    committed = {p["party"]: p["commitment"] for p in recorded_parties}
    wrong = [f"--reveal “{party}”：公开的密钥与其承诺值不符（承诺值 {committed[party]}），未作记录"
             for party in algorithm.unmatched_reveals(given, committed)]
    if wrong:
        raise UserError(wrong[0], wrong)
    return given


def witness(text: str) -> str:
    """The witness text as used, stored and published (NFKC, whitespace runs one space, trimmed); never empty."""
    normalised = algorithm.normalise_witness(text)
    if not normalised:
        raise UserError("--witness：见证文本为空（去掉空白后没有内容）；请由见证人在现场提供文本")
    return normalised


def may_draw(uow, doing: str) -> bool:
    """Whether the acting identity may draw at all: the input checks that record nothing leave one who may not
    to the act itself, whose refusal is audited."""
    try:
        require_office(uow.plan, uow.actor, doing)
    except UserError:
        return False
    return True
