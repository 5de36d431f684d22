"""A simulation database or a real one: which instant and which actor a change may claim.

``ssj init --simulation`` makes a database on which time and people are played
(the demo, the tests): a change may claim any instant (``--now``) and any actor
(``--user``). On a real database a change happens at the machine's clock and is
done by the operating-system account running ``ssj``; only questions (reports,
checks) may ask "as of" another instant. The command line and the flows both ask
here, so the rule is stated once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from workflow.errors import UserError

SIMULATION_MARK = "模拟"  # what every status and report of a simulation database says
SIMULATION_NOTE = "【模拟】模拟数据库（ssj init --simulation）：时间和操作人均为模拟，不是正式抽查记录"


def acting_instant(claimed: datetime | None, wall_clock: Callable[[], datetime], *, simulation: bool,
                   changes: bool, source: str = "--now") -> datetime:
    """The instant an act happens at: ``claimed`` where it may be claimed, else the machine's clock.

    A change claiming an instant on a real database is refused (nothing is done): its audit row would say
    whatever the user typed."""
    if claimed is None:
        return wall_clock()
    if changes and not simulation:
        raise UserError(f"这是正式数据库：变更只能按系统时钟进行，不能用 {source} 指定时间（{claimed.isoformat()}）；"
                        "--now 只用于模拟数据库（ssj init --simulation），查询和报表可以用 --now 查看某一时刻的情况。"
                        "本次未作任何更改")
    return claimed


def refuse_claimed_actor(*, simulation: bool, source: str) -> None:
    """On a real database the actor is the operating-system account: a typed one (``--user``) is refused."""
    if not simulation:
        raise UserError(f"这是正式数据库：操作人是运行 ssj 的操作系统账户（按办公室人员名录 ssj staff add 对应），"
                        f"不能用 {source} 指定；代部门或执法人员操作请用 --on-behalf-of 部门代码|执法证号，"
                        "并用 --evidence 文件 或 --reason 理由 说明依据。本次未作任何更改")
