"""What a message in the office mailbox is, and whose: the rules, apart from any mailbox or database.

A reply counts only when both hold: its sender is, in the directory, the administrator or
contact of the department (or the officer) it answers for, and either the file it carries
has our token for that department (or enterprise) — or, for a file without one (a scanned
report), the message replies to one of our messages sent to that same address. What it is
comes from the token's kind or from what our message was about, then from the file's type:
never from the wording alone. Anything else waits for the office (``MANUAL``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workflow.file_tokens import CONFIRM_LIST, FileToken

# What a reply records (the commands it stands for).
LIST, REPORT, SUMMARY, FORMS, ACK = "confirm_list", "confirmation_report", "summary", "forms", "acknowledge"
KIND_LABELS = {LIST: "比对确认清单", REPORT: "盖章的比对确认报告", SUMMARY: "部门总结", FORMS: "一企一表（检查结果）",
               ACK: "确认收到一企一表"}
# Where a message goes once handled.
HANDLED, MANUAL = "已处理", "需人工处理"
ANSWER_TEMPLATE = "mail_answer"  # our answer to a reply (``services.mailbox``)
NO_ATTACHMENT = "邮件没有附件，未作记录（如需报送文件，请作为附件回复）"
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".csv", ".et")
SCANS = (".pdf", ".ofd", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".heic")
DOCUMENTS = (".docx", ".doc", ".wps")
# Our messages whose template says what they are about (digests say it with their tasks).
TEMPLATE_ABOUT = {"dispatch": frozenset({"confirm", "confirmation_report"}),
                  "forms_dispatch": frozenset({"acknowledge", "backfill"})}


@dataclass(frozen=True)
class OurMessage:
    """One of our messages the reply refers to (by In-Reply-To or References)."""

    campaign: str
    template: str
    recipients: tuple[str, ...]  # its To and Cc
    about: frozenset[str] = frozenset()  # the kinds of the tasks it concerned

    def concerns(self) -> frozenset[str]:
        return self.about | TEMPLATE_ABOUT.get(self.template, frozenset())


@dataclass(frozen=True)
class ReturnedFile:
    name: str
    token: FileToken | None = None  # read from the file (None: it has none)
    genuine: bool = False  # the token is ours, unaltered
    is_list: bool = False  # a spreadsheet whose first row is the 比对确认 list's header
    readable: bool = True  # False: a spreadsheet that cannot be opened as one

    @property
    def suffix(self) -> str:
        return "." + self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""


@dataclass(frozen=True)
class Sender:
    """The From address, and who it is in the directories."""

    address: str
    departments: tuple[str, ...] = ()  # codes of the departments whose administrator or contact it is
    officers: tuple[str, ...] = ()  # certificate numbers of the officers with this address

    @property
    def known(self) -> bool:
        return bool(self.departments or self.officers)


@dataclass(frozen=True)
class Reading:
    """What to do with a message: record it (``kind`` for ``party`` in ``campaign``, as ``actor``), or not.

    ``problem``: why not, in Chinese; ``suspect``: the office should look (a file or a reference that is not the
    sender's), whether or not the sender is told."""

    kind: str | None = None
    campaign: str | None = None
    party: str | None = None
    actor: str | None = None
    files: tuple[str, ...] = ()
    problem: str = ""
    suspect: bool = False
    tell_sender: bool = False  # the sender is someone of the directory: he is told what became of it
    notes: tuple[str, ...] = field(default=())

    @property
    def folder(self) -> str:
        return MANUAL if (self.problem and not self.tell_sender) or self.suspect else HANDLED


def _not(problem: str, sender: Sender, *, suspect: bool = False, campaign: str | None = None) -> Reading:
    return Reading(campaign=campaign, problem=problem, suspect=suspect, tell_sender=sender.known)


def read_reply(sender: Sender, ours: list[OurMessage], files: list[ReturnedFile], *, automatic: bool = False,
               open_tasks=lambda campaign, department: frozenset(), names: dict[str, str] | None = None,
               carried: bool = False) -> Reading:
    """What the message is. ``ours``: our messages it refers to, newest first; ``open_tasks(campaign,
    department)``: the kinds of the department's tasks still open (a file without a token, replying to a message
    about both the report and the summary, is the one still owed); ``carried``: the message carried files that were
    not kept (over the limit, winmail.dat): not an empty reply."""
    if automatic:
        return Reading(problem="自动回复、退信或群发邮件，未作处理")
    if not sender.known:
        return Reading(problem=f"发件人 {sender.address or '（无）'} 不是名录中任何部门的管理员、联络人或执法人员的邮箱")
    tokened = [f for f in files if f.token is not None]
    forged = [f.name for f in tokened if not f.genuine]
    if forged:
        return _not(f"附件“{'”“'.join(forged)}”的校验标记与本办公室发出的文件不符（不是本办公室发出的文件，或已被改动），"
                    "未作记录；请使用本办公室邮件所附的文件填写后回复", sender, suspect=True)
    if tokened:
        return _tokened(sender, tokened, files, names or {})
    mine = [m for m in ours if any(r.strip().lower() == sender.address.lower() for r in m.recipients)]
    if not mine:
        if ours:
            return _not("回复的是本办公室发给其他人的邮件，发件人不是该邮件的收件人，未作记录", sender, suspect=True)
        return _not("邮件没有回复本办公室发出的邮件，附件也不是本办公室发出的文件，无法确定是哪项工作的报送；"
                    "请直接回复本办公室的通知邮件并附上文件", sender)
    campaign = mine[0].campaign
    if not files and not carried and all(m.template == ANSWER_TEMPLATE for m in mine):
        # our answer answered without a file: an auto-reply (many set no RFC 3834 header), or thanks; answering it
        # would make an auto-responder answer us again, every pass: the office reads it, nobody is answered
        return Reading(campaign=campaign, problem="回复的是本办公室的登记回执，没有附件（可能是自动回复），未作记录，"
                                                  "也不再回复（以免与自动回复往复）")
    about = frozenset().union(*(m.concerns() for m in mine if m.campaign == campaign))
    if sender.officers and about & {"acknowledge", "backfill"}:
        return _officer(sender, campaign, files)
    departments = sender.departments
    if not departments:
        return _not("发件人不是部门的管理员或联络人，该邮件的报送无法记录", sender, campaign=campaign)
    if len(departments) > 1:
        return _not(f"发件人同时是多个部门（{'、'.join(departments)}）的管理员或联络人，无法确定代表哪个部门报送，"
                    "已转办公室人工处理", sender, campaign=campaign)
    (department,) = departments
    if not files:
        return _not(NO_ATTACHMENT, sender, campaign=campaign)
    lists = [f for f in files if f.is_list]
    if lists:
        return Reading(LIST, campaign, department, sender.address, tuple(f.name for f in lists), tell_sender=True)
    still = open_tasks(campaign, department) & {REPORT, SUMMARY}
    owed = (about & still) or still or (about & {REPORT, SUMMARY})  # what is owed; else a correction of what was sent
    if len(owed) > 1:
        owed = {REPORT}  # the report comes first
    if not owed:
        return _not("该部门的比对确认报告和总结均已报送，附件未作记录；如需更正，请与领导小组办公室联系", sender,
                    campaign=campaign)
    (kind,) = owed
    # a spreadsheet nothing can read (a zip bomb, a PDF named .xlsx, a broken list) is neither the list nor the
    # stamped report: recorded as the report, a department's broken list closed its report task
    kept = [f for f in files if f.suffix in SCANS + DOCUMENTS or (f.suffix in SPREADSHEETS and f.readable)]
    if not kept:
        names = "”“".join(f.name for f in files)
        if any(f.suffix in SPREADSHEETS for f in files):
            return _not(f"附件“{names}”无法读取（文件已损坏，或不是 Excel 文件），未作记录；比对确认清单请在 WPS 或 Excel "
                        "中填好、保存后作为附件回复，盖章的比对确认报告请以 PDF、图片或 Word 文件回复", sender,
                        campaign=campaign)
        return _not(f"附件“{names}”不是 PDF、OFD、图片、Word 或 Excel 文件，未作记录", sender, campaign=campaign)
    # every file is kept as sent (a report scanned page by page; a summary with its tables): the handler decides
    return Reading(kind, campaign, department, sender.address, tuple(f.name for f in kept), tell_sender=True,
                   notes=tuple(f"附件“{f.name}”无法读取（文件已损坏，或不是 Excel 文件），未作记录" for f in files
                               if f.suffix in SPREADSHEETS and not f.readable))


def _tokened(sender: Sender, tokened: list[ReturnedFile], files: list[ReturnedFile], names: dict[str, str]) -> Reading:
    """Files that carry our token: they say what they are and whose; the sender must be that party's."""
    kinds = {(f.token.campaign, f.token.kind) for f in tokened}
    if len(kinds) > 1:
        return _not("附件分属不同抽查任务或不同种类的文件，请每封邮件只回复一类文件", sender)
    ((campaign, kind),) = kinds
    if kind == CONFIRM_LIST:
        parties = {f.token.party for f in tokened}
        foreign = sorted(parties - set(sender.departments))
        if foreign:
            whose = "、".join(f"{names.get(c, c)}（{c}）" for c in foreign)
            return _not(f"附件是{whose}的比对确认清单，发件人 {sender.address} 不是该部门的管理员或联络人，"
                        "未作记录", sender, suspect=True, campaign=campaign)
        if len(parties) > 1:
            return _not("附件是多个部门的比对确认清单，请每个部门分别回复", sender, campaign=campaign)
        return Reading(LIST, campaign, parties.pop(), sender.address, tuple(f.name for f in tokened),
                       tell_sender=True)
    if not sender.officers:
        return _not(f"附件是一企一表，发件人 {sender.address} 不是执法人员，未作记录", sender, suspect=True,
                    campaign=campaign)
    notes = tuple(f"附件“{f.name}”不是一企一表，未作记录" for f in files if f.token is None)
    return Reading(FORMS, campaign, sender.officers[0], sender.officers[0], tuple(f.name for f in tokened),
                   tell_sender=True, notes=notes)


def _officer(sender: Sender, campaign: str, files: list[ReturnedFile]) -> Reading:
    """An officer's reply to his 一企一表 mail: the filled forms, or (no attachment) his acknowledgement."""
    if not files:
        return Reading(ACK, campaign, sender.officers[0], sender.officers[0], tell_sender=True)
    forms = [f for f in files if f.suffix in (".xlsx", ".xlsm")]
    if not forms:
        names = "”“".join(f.name for f in files)
        return _not(f"附件“{names}”不是填好的一企一表 Excel 文件（.xlsx），未作记录；请把本办公室发来的一企一表 Excel 文件"
                    "在 WPS 或 Excel 中填好后作为附件回复（Word、PDF 或照片无法登记）", sender, campaign=campaign)
    notes = tuple(f"附件“{f.name}”不是一企一表 Excel 文件，未作记录" for f in files if f not in forms)
    return Reading(FORMS, campaign, sender.officers[0], sender.officers[0], tuple(f.name for f in forms),
                   tell_sender=True, notes=notes)
