"""One pass over the office mailbox: each reply recognised, recorded with the commands' own rules, answered.

For each message in the folder, oldest first: a Message-ID handled before is only moved
(a duplicate delivery, or a pass killed between its commit and the move); otherwise the
message is read (``workflow.files.inbound_mail``), told apart (``workflow.replies``) and, in
one transaction, recorded as its sender — with the same handler ``ssj confirm import``,
``confirm report``, ``summary submit``, ``results import`` or ``ack`` calls, every audit row
naming the message — together with the message's row and our answer to the sender's
address in the directory. Only after that commit is the message moved, to ``已处理`` or
``需人工处理``; nothing is ever deleted. A refusal records nothing but the message's row and
the answer, which lists every problem exactly as the command prints it.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from workflow.confirmation import CONFIRMATIONS
from workflow.errors import CannotComplete, UserError
from workflow.file_tokens import genuine
from workflow.files.inbound_mail import MAX_ATTACHMENT_BYTES, InboundMail, parse_message, references_of
from workflow.files.tabular import FileProblem, open_table
from workflow.files.token_sheet import read_token
from workflow.identity import SYSTEM, same_identity
from workflow.importing import ImportRejected
from workflow.letter import greeting, signature
from workflow.mail import Mail
from workflow.replies import (ACK, ANSWER_TEMPLATE, FORMS, HANDLED, KIND_LABELS, LIST, MANUAL, NO_ATTACHMENT,
                              REPORT, SPREADSHEETS, SUMMARY, OurMessage, Reading, ReturnedFile, Sender, read_reply)
from workflow.persistence.database import CONNECTION_LOST, first_line
from workflow.persistence.locks import try_exclusive
from workflow.services.uow import UnitOfWork
from workflow.deadline_words import instant_words

RECORDED, REFUSED, WAITS = "已记录", "已退回", "需人工处理"
DUPLICATE = "重复"  # handled before (delivered twice, or not moved by a killed pass): only moved
_WHOLE_MESSAGE_SLACK = 1.4  # base64 makes a file a third bigger: a message this much over the limit is not fetched


@dataclass
class PassReport:
    """What one pass did, for the command's output, the tick's line and the board."""

    source: str
    read: int = 0
    recorded: int = 0
    refused: int = 0
    manual: int = 0
    duplicates: int = 0  # handled before: only moved
    left: int = 0  # messages of other campaigns than those asked for, left in the folder
    error: str | None = None
    busy: bool = False  # another pass was reading: this one did nothing
    lines: list[str] = field(default_factory=list)  # one per message, in Chinese

    def words(self) -> str:
        if self.busy:
            return "办公室邮箱：另一次读取正在进行，本次跳过（邮件由那一次处理）"
        if self.error:
            return f"办公室邮箱无法读取：{self.error}"
        if not self.read:
            return "办公室邮箱：没有新邮件"
        parts = [f"读取 {self.read} 封", f"登记 {self.recorded} 封"]
        if self.refused:
            parts.append(f"退回 {self.refused} 封（已回复发件人原因）")
        if self.manual:
            parts.append(f"需人工处理 {self.manual} 封")
        if self.duplicates:
            parts.append(f"重复收到 {self.duplicates} 封（此前已处理，不重复登记）")
        if self.left:
            parts.append(f"其他抽查任务的 {self.left} 封留待处理")
        return "办公室邮箱：" + "，".join(parts)


def read_mailbox(engine, mailbox, *, now: datetime, codes: Sequence[str] = (), files_dir: Path | None = None,
                 max_bytes: int = MAX_ATTACHMENT_BYTES, on_seam: Callable[[str], None] | None = None) -> PassReport:
    """One pass over ``mailbox`` (``services.imap``/``services.maildir``); ``codes``: only these campaigns'
    replies (others are left; messages that belong to no campaign are handled by any pass). A mailbox that cannot
    be read is the report's ``error``, recorded with the pass: the caller goes on."""
    report = PassReport(mailbox.label)
    with try_exclusive(engine, "office-mailbox") as mine:
        if not mine:  # a tick and ``ssj mailbox`` at once: one reads, the other says so and goes on
            report.busy = True
            return report
        _pass(engine, mailbox, report, now=now, codes=codes, files_dir=files_dir, max_bytes=max_bytes,
              on_seam=on_seam)
    uow = UnitOfWork(engine, now=now, actor=SYSTEM)
    with uow:
        uow.mailbox.add_pass(now=now, source=report.source, scope=codes, read=report.read, recorded=report.recorded,
                             refused=report.refused, manual=report.manual, error=report.error)
    return report


def _pass(engine, mailbox, report: PassReport, *, now, codes, files_dir, max_bytes, on_seam) -> None:
    """Every message in the folder; a message the handlers cannot cope with goes to the office, never blocks the
    rest. The mailbox or the database failing stops the pass (the messages wait for the next)."""
    from workflow.services.imap import MailboxUnavailable

    try:
        with mailbox:
            for stored in mailbox.messages():
                try:
                    outcome, line, folder = _one(engine, mailbox, stored, now=now, codes=codes, files_dir=files_dir,
                                                 max_bytes=max_bytes, on_seam=on_seam)
                except (MailboxUnavailable, CannotComplete, *CONNECTION_LOST):
                    raise
                except Exception as exc:  # noqa: BLE001 - this message's content broke a handler: the office looks
                    outcome, line, folder = _broken(engine, mailbox, stored, now, exc)
                if folder is not None:
                    if on_seam is not None:
                        on_seam("mailbox:before-move")
                    mailbox.move(stored.uid, folder)
                report.lines.append(line)
                if outcome is None:
                    report.left += 1
                    continue
                report.read += 1
                report.duplicates += outcome == DUPLICATE
                report.recorded += outcome == RECORDED
                report.refused += outcome == REFUSED
                report.manual += outcome == WAITS
    except (MailboxUnavailable, CannotComplete) as exc:
        report.error = str(exc)
    except CONNECTION_LOST as exc:
        report.error = f"数据库出错：{first_line(exc)}（邮件留在邮箱中，下一次读取再处理）"


def _broken(engine, mailbox, stored, now, exc: Exception) -> tuple[str, str, str]:
    """A message whose handling failed unexpectedly: recorded for the office with the reason, filed under 需人工处理."""
    raw = mailbox.headers(stored.uid)
    mail = _parsed(raw)
    identity = _identity(mail, raw)
    detail = f"内部错误，未作记录，请人工处理：{type(exc).__name__}: {str(exc)[:300]}"
    uow = UnitOfWork(engine, now=now, actor=SYSTEM)
    with uow:
        if uow.mailbox.handled(identity) is None:
            uow.mailbox.add(message_id=identity, now=now, sender=mail.sender, subject=mail.subject, campaign_code=None,
                            kind=None, party=None, outcome=WAITS, folder=MANUAL, detail=detail, files=[],
                            reply_key=None)
    return WAITS, f"“{mail.subject or '（无主题）'}”（{mail.sender or '发件人不明'}）：{detail}", MANUAL


def _one(engine, mailbox, stored, *, now, codes, files_dir, max_bytes, on_seam) -> tuple[str | None, str, str | None]:
    """(outcome or None when left for another pass, a line for the office, the folder to move it to)."""
    whole = stored.size <= max_bytes * _WHOLE_MESSAGE_SLACK + 1024 * 1024
    raw = mailbox.fetch(stored.uid) if whole else mailbox.headers(stored.uid)
    mail = _parsed(raw, max_attachment_bytes=max_bytes)
    identity = _identity(mail, raw)
    about = f"“{mail.subject or '（无主题）'}”（{mail.sender or '发件人不明'}）"
    probe = UnitOfWork(engine, now=now, actor=SYSTEM, changes=False)
    with probe:
        before = probe.mailbox.handled(identity)
    if before is not None and before.outcome != WAITS:
        return DUPLICATE, f"{about}：已于此前处理（{before.outcome}），不重复登记", before.folder
    # one that waited for a person and is back in the folder was put back by the office (the cause mended): read again
    with tempfile.TemporaryDirectory(prefix="ssj-mail-") as tmp:
        folder = Path(tmp)
        paths = _saved(folder, mail)
        reading = _read(engine, now, mail, paths)
        if not whole or mail.oversize:
            reading = _oversize(reading, mail, stored.size, max_bytes)
        if codes and reading.campaign is not None and reading.campaign not in codes:
            return None, f"{about}：属于抽查任务 {reading.campaign}，本次未处理", None
        arrived = stored.received_at  # when the server took it: a reply read late is not late
        at = min(arrived, now) if arrived is not None else now
        outcome, detail = _record(engine, at, mail, identity, reading, paths, files_dir, on_seam)
    return outcome, f"{about}：{outcome}（{detail.splitlines()[0] if detail else ''}）", \
        MANUAL if outcome == WAITS or reading.suspect else HANDLED


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _parsed(raw: bytes, **limits) -> InboundMail:
    """The message, without the header values no mail client writes: a Message-ID, reference or sender with a
    control character (a NUL, which PostgreSQL refuses in text, made one message stop every pass) is left out."""
    mail = parse_message(raw, **limits)

    def odd(value: str | None) -> bool:
        return bool(value) and _CONTROL.search(value) is not None

    return replace(mail, message_id=None if odd(mail.message_id) else mail.message_id,
                   sender="" if odd(mail.sender) else mail.sender,
                   in_reply_to=tuple(i for i in mail.in_reply_to if not odd(i)),
                   references=tuple(i for i in mail.references if not odd(i)))


def _identity(mail: InboundMail, raw: bytes) -> str:
    """What makes a message the same message: its Message-ID (a long one by its hash), else its bytes' hash."""
    if mail.message_id and len(mail.message_id) <= 300:
        return mail.message_id
    hashed = mail.message_id.encode("utf-8", "replace") if mail.message_id else raw
    return "sha256:" + hashlib.sha256(hashed).hexdigest()


def _saved(folder: Path, mail: InboundMail) -> dict[str, Path]:
    """Each attachment as a file of its own name (the import rules read files, and name them in their messages)."""
    paths: dict[str, Path] = {}
    for i, attachment in enumerate(mail.attachments):
        name = attachment.filename
        if name in paths:  # two files of one name: both kept, the second in a folder of its own
            (folder / str(i)).mkdir()
            path = folder / str(i) / name
        else:
            path = folder / name
        path.write_bytes(attachment.content)
        paths[name if name not in paths else f"{i}/{name}"] = path
    return paths


def _read(engine, now, mail: InboundMail, paths: dict[str, Path]) -> Reading:
    """Who sent it and what our messages and its files say (``workflow.replies.read_reply``)."""
    uow = UnitOfWork(engine, now=now, actor=SYSTEM, changes=False)
    with uow:
        sender = Sender(mail.sender, tuple(uow.directory.departments_of(mail.sender)) if mail.sender else (),
                        tuple(uow.directory.officers_of(mail.sender)) if mail.sender else ())
        ours = [OurMessage(r.campaign_code, r.template, (r.recipient, *(r.cc.split("; ") if r.cc else ())),
                           frozenset(uow.mailbox.task_kinds(r.key, r.task_id)))
                for r in uow.mailbox.ours(references_of(mail))]
        secret = uow.settings.reply_secret()
        files = []
        for name, path in paths.items():
            token = read_token(path)
            readable, is_list = _spreadsheet(path)
            files.append(ReturnedFile(name, token, token is not None and genuine(secret, token), is_list, readable))

        def open_tasks(campaign: str, department: str) -> frozenset[str]:
            return frozenset(uow.tasks.open_kinds(campaign, department))

        return read_reply(sender, ours, files, automatic=mail.automatic, open_tasks=open_tasks,
                          carried=bool(mail.oversize or mail.ignored),
                          names=uow.directory.department_names())


def _spreadsheet(path: Path) -> tuple[bool, bool]:
    """(readable, a list): whether a spreadsheet can be opened at all, and whether its header is the 比对确认
    answers' (抽查任务编号, 部门代码, 统一社会信用代码 …); any other file is (True, False)."""
    if path.suffix.lower() not in SPREADSHEETS:
        return True, False
    try:
        with open_table(str(path), CONFIRMATIONS.looks_like_header) as table:
            return True, bool(CONFIRMATIONS.looks_like_header(table.header))
    except (FileProblem, UserError, OSError, ValueError):
        return False, False


def _oversize(reading: Reading, mail: InboundMail, size: int, max_bytes: int) -> Reading:
    """Attachments over the limit are not read: the sender (if known) is told, nothing is recorded."""
    limit = max_bytes / 1024 / 1024
    big = [f"“{name}”（{n / 1024 / 1024:.1f} MB）" for name, n in mail.oversize] or [f"整封邮件（{size / 1024 / 1024:.1f} MB）"]
    problem = (f"附件{'、'.join(big)}超过上限 {limit:.0f} MB，未作记录；请压缩文件（如降低扫描分辨率）或分成几封邮件回复")
    return Reading(campaign=reading.campaign, kind=reading.kind, party=reading.party, problem=problem,
                   tell_sender=reading.tell_sender and reading.campaign is not None)


def _record(engine, now, mail: InboundMail, identity: str, reading: Reading, paths: dict[str, Path],
            files_dir: Path | None, on_seam) -> tuple[str, str]:
    """The reply recorded as its sender (or refused), the message's row and our answer, in one transaction."""
    files = [{"name": a.filename, "sha256": a.sha256, "size": len(a.content)} for a in mail.attachments]
    uow = UnitOfWork(engine, now=now, actor=reading.actor or SYSTEM, campaign=reading.campaign, files_dir=files_dir,
                     on_seam=on_seam)
    uow.via = {"message_id": identity, "sender": mail.sender,
               "files": [{"name": f["name"], "sha256": f["sha256"]} for f in files if f["name"] in reading.files]}
    with uow:
        earlier = uow.mailbox.handled(identity)
        if earlier is not None and earlier.outcome != WAITS:  # another pass took it meanwhile
            return DUPLICATE, f"已由另一次读取处理（{earlier.outcome}）"
        if earlier is not None:
            uow.mailbox.forget(identity)  # read again: its new outcome replaces the one that waited
        # a file left aside (winmail.dat …) is said below: "no attachment" would contradict it
        said = [] if reading.problem == NO_ATTACHMENT and mail.ignored else [reading.problem]
        outcome, lines, late = WAITS, said, False
        if reading.kind and not reading.problem:
            try:
                with uow:
                    lines, late = _apply(uow, reading, [paths[name] for name in reading.files], mail)
                outcome = RECORDED
            except ImportRejected as exc:
                outcome, lines = REFUSED, _plain(exc.lines(), paths)
            except UserError as exc:
                outcome, lines = REFUSED, _plain(exc.lines, paths)
            if reading.campaign is not None:
                uow.use(reading.campaign)  # a list's rows may have named another campaign: the answer is this one's
        elif reading.problem and reading.tell_sender and reading.campaign is not None:
            outcome = REFUSED
        if reading.suspect:
            outcome = WAITS if outcome != RECORDED else outcome
        reply_key = None
        if reading.tell_sender and reading.campaign is not None:
            reply_key = _answer(uow, mail, identity, reading, outcome == RECORDED, lines, late)
        uow.seam("mailbox:before-row")
        detail = "\n".join([*lines, *reading.notes, *mail.ignored])
        uow.mailbox.add(message_id=identity, now=now, sender=mail.sender, subject=mail.subject,
                        campaign_code=reading.campaign, kind=reading.kind, party=reading.party, outcome=outcome,
                        folder=MANUAL if outcome == WAITS or reading.suspect else HANDLED, detail=detail,
                        files=files, reply_key=reply_key)
    return outcome, detail


def _plain(lines: list[str], paths: dict[str, Path]) -> list[str]:
    """The command's lines with the file named as the sender named it (not the temporary folder it was read from)."""
    out = []
    for line in lines:
        for name, path in paths.items():
            line = line.replace(str(path), Path(name).name)
        out.append(line)
    return out


def _apply(uow, reading: Reading, paths: list[Path], mail: InboundMail) -> tuple[list[str], bool]:
    """The handler the command would call, as the sender; (what was recorded in words, late)."""
    from workflow.services.confirmations import import_answers
    from workflow.services.documents import receive_document
    from workflow.services.form_import import import_filled_form
    from workflow.services.forms import acknowledge

    if reading.kind == LIST:
        lines = []
        for path in paths:
            counts = import_answers(uow, str(path))
            lines.append(f"{path.name}：共 {counts.recorded} 户，检查 {counts.inspects} 户，不检查 {counts.declines} 户")
        return lines, False
    if reading.kind in (REPORT, SUMMARY):
        texts = _summary_texts(paths, mail) if reading.kind == SUMMARY else None
        lines, late = [], False
        for path in paths:  # each file kept as sent; a summary's parts are read once, from whichever holds them
            late |= receive_document(uow, reading.kind, reading.party, path, texts=texts)
            lines.append(f"{KIND_LABELS[reading.kind]}：{path.name}")
        return [line + ("（已逾期）" if late else "") for line in lines], late
    if reading.kind == FORMS:
        lines, late = [], False
        for path in paths:
            done = import_filled_form(uow, str(path))
            late |= done.late
            line = f"{path.name}：企业 {done.uscc}" + ("，记录实地核查" if done.visit_recorded else "") \
                + f"，回填 {done.items} 个事项"
            if done.reported:
                line += "，全部事项已回填" + ("（回填已逾期）" if done.late else "")
            lines.append(line)
        acknowledged = _acknowledged_with_forms(uow, reading.actor)
        return lines + acknowledged, late
    if reading.kind == ACK:
        late = acknowledge(uow, reading.party)
        return ["确认收到一企一表" + ("（已逾期）" if late else "")], late
    raise UserError(f"无法登记的邮件种类：{reading.kind}")


def _summary_texts(paths: list[Path], mail: InboundMail) -> dict[str, str]:
    """亮点、经验做法、存在问题 from the first DOCX/XLSX that has them (the summary among its tables), else from the
    mail's text (a summary sent as PDF or scan)."""
    from workflow.files.summary_text import parts_of_lines, read_summary_parts

    for path in paths:
        if path.suffix.lower() in (".docx", ".xlsx"):
            try:
                parts = read_summary_parts(path)
            except (UserError, ValueError, KeyError, OSError):
                continue
            if any(parts.values()):
                return parts
    return parts_of_lines(mail.text.splitlines())


def _acknowledged_with_forms(uow, certificate_no: str) -> list[str]:
    """An officer who sends his filled forms back has received them: his acknowledgement, if still open."""
    from workflow.services.forms import acknowledge
    from workflow.tasks import task_key

    task = uow.tasks.get(task_key("acknowledge", uow.plan.code, certificate_no=certificate_no))
    if task is None or task.done_at is not None:
        return []
    late = acknowledge(uow, certificate_no)
    return ["并记录为已确认收到一企一表" + ("（确认已逾期）" if late else "")]


def _answer(uow, mail: InboundMail, identity: str, reading: Reading, recorded: bool, lines: list[str],
            late: bool) -> str:
    """Our answer, to the sender's address as the directory has it (never Reply-To), in the office's name."""
    plan = uow.plan
    address, hello = _addressee(uow, mail.sender)
    what = KIND_LABELS.get(reading.kind or "", "邮件")
    context = {"greeting": hello, "recorded": recorded, "what": what, "campaign_name": plan.name,
               "their_subject": mail.subject or "（无主题）",
               "received": instant_words(mail.date, plan.tz) if mail.date else "",
               "lines": lines, "notes": [*reading.notes, *mail.ignored], "late": late, "signature": signature(plan),
               "suspect": reading.suspect and not recorded,
               "in_reply_to": mail.message_id or ""}
    key = f"answer|{plan.code}|{identity}"
    uow.queue([Mail(key, address, "answer", ANSWER_TEMPLATE, context)])
    return key


def _addressee(uow, sender: str) -> tuple[str, str]:
    """The directory's spelling of the sender's address, and how to greet him."""
    for code in uow.directory.departments_of(sender):
        dept = uow.directory.department(code)
        if same_identity(dept.admin_email, sender):
            return dept.admin_email, greeting(dept.admin_name, "管理员", dept.name)
        return dept.contact_email, greeting(dept.contact_name, "联络人", dept.name)
    for cert in uow.directory.officers_of(sender):
        officer = uow.directory.officer(cert)
        names = uow.directory.department_names()
        return officer.email, greeting(officer.name, "执法人员", names.get(officer.department_code, ""))
    return sender, greeting(None)


def configured_pass(engine, environ, *, now: datetime, codes: Sequence[str] = (),
                    files_dir: Path | None = None) -> PassReport | None:
    """A pass over the mailbox ``SSJ_IMAP_*`` (or ``SSJ_MAILDIR``) names; None when none is named. A setting that
    is wrong is the report's error, so the timeline goes on (``ssj mailbox`` refuses it instead)."""
    from workflow.services.imap import MailboxNotConfigured, open_mailbox

    try:
        mailbox = open_mailbox(environ)
    except MailboxNotConfigured as exc:
        report = PassReport("", error=str(exc))
        uow = UnitOfWork(engine, now=now, actor=SYSTEM)
        with uow:
            uow.mailbox.add_pass(now=now, source="", scope=codes, read=0, recorded=0, refused=0, manual=0,
                                 error=report.error)
        return report
    if mailbox is None:
        return None
    return read_mailbox(engine, mailbox, now=now, codes=codes, files_dir=files_dir)
