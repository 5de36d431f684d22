"""The emails people get, in Chinese (Jinja2), and the message itself with its stable Message-ID.

Rendering happens at send time from the context queued in the outbox, so a
queued notice costs one row and the wording can be fixed before it goes out.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import io
import mimetypes
import re
from collections.abc import Sequence
from pathlib import Path
from email import quoprimime
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import format_datetime

from workflow.files.legacy_templates import LEGACY_TEMPLATES
from workflow.mail import Mail

_TEMPLATES = {
    "deadline_moved.subject": "【期限调整】{{ campaign_name }}：{{ rows|length }} 项工作的期限已调整",
    "deadline_moved.body": """\
{{ greeting }}

因节假日安排（工作日历）更新，抽查任务“{{ campaign_name }}”中由您办理的以下 {{ rows|length }} 项工作期限已调整，请按新的期限办理：

事项｜企业｜原截止｜新截止
{% for r in rows %}{{ r.task }}｜{{ r.enterprise or "—" }}｜{{ r.before }}｜{{ r.after }}
{% endfor %}{% if rows|selectattr("provisional")|list %}
标“暂定”的期限所在年份的节假日安排尚未发布，发布后可能再次调整，届时另行通知。
{% endif %}
如有疑问，请与领导小组办公室联系。

{{ signature }}
""",
    "dispatch.subject": "【派发】{{ campaign_name }}：请于{{ due }}完成比对确认（{{ count }} 户）",
    "dispatch.body": """\
{{ greeting }}

根据{{ document_no }}，{{ office }}已于{{ drawn_at }}公开随机抽取本次联合抽查的检查对象，其中 {{ count }} 户请{{ department }}进行比对确认，清单见附件“{{ attachment_name }}”。

请于{{ due }}完成比对确认：在附件清单「是否检查」列填写后回复本邮件（附上填好的清单）。贵单位检查的企业填“是”；不检查的填“否”，并在「不检查理由」列写明理由；清单其他各列请勿改动。
盖章的比对确认报告和部门总结，也请直接回复本邮件（作为附件）报送。回复即可，无需登录任何系统；收到后系统会回信告知登记结果。{% if provisional %}
该年节假日安排尚未发布，期限在发布后可能调整，届时另行通知。{% endif %}{% if copied %}
本邮件同时抄送贵单位联络人{{ copied }}。{% endif %}

如有疑问，请与领导小组办公室联系。

{{ signature }}
""",
    "forms_dispatch.subject": "【一企一表】{{ campaign_name }}：您的 {{ visits|length }} 户企业实地核查安排",
    "forms_dispatch.body": """\
{{ greeting }}

根据{{ document_no }}，您已被随机抽取为以下 {{ visits|length }} 户企业的执法检查人员。每户企业由检查组一次性完成联合实地核查，安排如下：

{% for v in visits %}- {{ v.day }}，第 {{ v.group }} 组：{{ v.enterprise }}（统一社会信用代码 {{ v.uscc }}）{% if v.address %}，{{ v.address }}{% endif %}{% if v.backfill %}；检查结果请于{{ v.backfill }}回填{% endif %}
{% endfor %}
附件是每户企业的一企一表（Excel 表和 Word 文档各一份，可直接打印）。

一、请于{{ due }}回复本邮件确认收到。{% if provisional %}该年节假日安排尚未发布，期限在发布后可能调整。{% endif %}
二、实地核查时请按一企一表逐项如实记录检查情况。
三、请于实地核查后将填好的一企一表（Excel 表）回复本邮件，领导小组办公室据此登记检查结果。
回复即可，无需登录任何系统；收到后系统会回信告知登记结果。

如与所列企业存在利害关系需要回避，或不能按时参加实地核查，请立即与领导小组办公室联系。

{{ signature }}
""",
    "draw_pending.subject": "【提醒】{{ campaign_name }}：公开抽取尚未进行",
    "draw_pending.body": """\
{{ greeting }}

抽查任务“{{ campaign_name }}”（{{ campaign_code }}）计划于{{ draw_at }}公开抽取，至{{ now }}尚未进行。
请各抽取参与方在自己的设备上生成密钥（ssj draw secret），只交出承诺值；先记录并公布各方承诺
（ssj draw commit {{ campaign_code }} --commitment 参与方=承诺值 …），再在见证人到场时由各方公开密钥、公开抽取
（ssj draw run {{ campaign_code }} --reveal 参与方=密钥 … --witness …）。

本提醒每天至多发送一次。

{{ signature }}
""",
    "match_commitments.subject": "【执法人员抽取】{{ campaign_name }}：比对确认已完成，{% if parties %}请各参与方提交承诺值{% else %}请提交执法人员抽取承诺{% endif %}",
    "match_commitments.body": """\
{{ greeting }}

抽查任务“{{ campaign_name }}”（{{ campaign_code }}）的比对确认已全部完成（截至{{ at }}），
{{ confirmed }} 户企业需要实地核查。下一步是随机抽取执法检查人员。
{% if parties %}
为保证办公室、任何一个参与方和本系统都不能单独决定抽取结果，执法人员抽取由以下参与方共同完成：
{% for p in parties %}  {{ loop.index }}. {{ p }}
{% endfor %}
请按以下步骤办理：

一、各参与方在本方自己的电脑上运行 ssj draw secret，得到本方的密钥（secret）和承诺值（commitment）。
    密钥由本方保管，公开抽取之前不交给任何人（包括办公室）；只把承诺值交给办公室。

二、办公室收齐各方的承诺值后运行（尖括号处换成各方交来的承诺值）：
    ssj match commit {{ campaign_code }}{% for p in parties %} --commitment {{ p }}=<承诺值>{% endfor %}
    系统固定执法人员名录快照，并将快照哈希和各方承诺值发到本邮箱，请在公开抽取前公布。

三、公开抽取时，各参与方到场当场公开本方密钥，见证人提供见证文本，办公室运行：
    ssj match run {{ campaign_code }}{% for p in parties %} --reveal {{ p }}=<密钥>{% endfor %} --witness "<见证文本>"
    密钥与承诺值不符的，系统拒绝并指出是哪一方；有参与方未公开密钥的，抽取推迟并记入审计记录。
    抽取后系统自动生成一企一表并派发给执法人员。
{% else %}
本抽查任务创建于 ssj-match-v2 之前（任务文件没有 [draw] parties），仍按 ssj-match-v1 抽取：
请运行 ssj match commit {{ campaign_code }} 固定执法人员名录快照并提交承诺，公布承诺值和快照哈希后，
在见证人到场时运行 ssj match run {{ campaign_code }} --witness "<见证文本>"。抽取后系统自动生成一企一表并派发给执法人员。
{% endif %}
本邮件只发送一次。

{{ signature }}
""",
    "match_committed.subject": "【待公布】{{ campaign_name }}：执法人员抽取承诺已记录",
    "match_committed.body": """\
{{ greeting }}

抽查任务“{{ campaign_name }}”（{{ campaign_code }}）的执法人员抽取承诺已于{{ at }}记录（{{ algorithm }}）：
系统固定了执法人员名录快照（{{ officers }} 名执法人员）{% if algorithm == "ssj-match-v1" %}并抽取了密钥{% else %}，各参与方提交了承诺值{% endif %}：

  快照哈希 snapshot_sha256：{{ snapshot_sha256 }}
{% for p in parties %}  {{ p.party }} 的承诺值 commitment：{{ p.commitment }}
{% endfor %}
{% if algorithm == "ssj-match-v1" %}请在执法人员公开抽取前公布以上各值，然后在见证人到场时公开抽取：
  ssj match run {{ campaign_code }} --witness "<见证文本>"
{% else %}请在执法人员公开抽取前公布以上各值。公开抽取时各参与方到场公开本方密钥，由见证人提供见证文本：
  ssj match run {{ campaign_code }}{% for p in parties %} --reveal {{ p.party }}=<密钥>{% endfor %} --witness "<见证文本>"
{% endif %}抽取后系统自动生成一企一表并派发给执法人员。

{{ signature }}
""",
    "overdue_report.subject": "【逾期报告】{{ campaign_name }}·{{ day }}：逾期事项 {{ count }} 项",
    "overdue_report.body": """\
{{ greeting }}

截至{{ at }}，抽查任务“{{ campaign_name }}”（{{ campaign_code }}）共有逾期事项 {{ count }} 项。
{% for row in departments %}- {{ row.name }}：{{ row.tasks }} 项，最长逾期 {{ row.worst }} 个工作日
{% else %}各部门均无逾期事项。
{% endfor %}{% if joint is defined and joint %}注：{{ joint }}
{% endif %}
逾期部门报告见附件（{{ attachment_name }}）。
{% if mail_problems is defined and mail_problems %}
邮件：{{ mail_problems }}（ssj campaign status {{ campaign_code }}）。
{% endif %}{% if mailbox is defined and mailbox %}
办公室邮箱中有 {{ mailbox|length + mailbox_more }} 封邮件需人工处理（在“需人工处理”文件夹中）：
{% for line in mailbox %}- {{ line }}
{% endfor %}{% if mailbox_more %}- 另有 {{ mailbox_more }} 封未列出
{% endif %}{% endif %}
本报告在每个工作日发送。

{{ signature }}
""",
    # The answer to a reply read in the office mailbox (``services.mailbox``): recorded, or why not.
    "mail_answer.subject": "{% if recorded %}【已登记】{% else %}【未登记】{% endif %}{{ what }}：{{ campaign_name }}",
    "mail_answer.body": """\
{{ greeting }}

{% if received %}您于{{ received }}{% else %}您{% endif %}发来的邮件（主题：{{ their_subject }}）\
{% if recorded %}已登记：{% else %}未能登记，系统未作任何记录：{% endif %}
{% for line in lines %}  {{ line }}
{% endfor %}{% for note in notes %}  {{ note }}
{% endfor %}{% if recorded %}{% if late %}
以上报送已超过期限，已如实记录。{% endif %}
无需再做其他操作。{% elif suspect is defined and suspect %}
本邮件已转领导小组办公室人工处理。如需报送本单位的材料，请直接回复本办公室发给您的邮件，并附上该邮件所附的文件。{% else %}
请按上述问题修改后，再次回复本邮件（附上改好的文件）；文件中其他内容请勿改动。{% endif %}
如果这封邮件不是您本人发出的，请立即与领导小组办公室联系。

{{ signature }}
""",
    # One message per recipient and stage per sweep (``services.digests.digest_notices``): every task listed.
    "notice_digest.subject": "{{ prefix }}{{ subject_what }}（{{ count }} 项）：{{ campaign_name }}",
    "notice_digest.body": """\
{{ greeting }}

{{ intro }}
{% for group in groups %}
{{ "一二三四五六七八九十"[loop.index0] if loop.index <= 10 else loop.index }}、{{ group.label }}（{{ group.rows|length + group.more }} 项）
{% for row in group.rows %}  {{ loop.index }}. {% if row.enterprise %}{{ row.enterprise }}（统一社会信用代码 {{ row.uscc }}）{% else %}{{ row.department }}{% endif %}\
{% if row.enterprise and row.department %}，{{ row.department }}{% endif %}{% if row.officer %}，执法人员{{ row.officer }}{% endif %}\
：截止 {{ row.due }}{% if stage == "remind" %}，尚余 {{ row.workdays_left }} 个工作日\
{% elif row.workdays_overdue %}，已逾期 {{ row.workdays_overdue }} 个工作日{% else %}，已逾期{% endif %}
{% endfor %}{% if group.more %}  ……另有 {{ group.more }} 项未逐一列出{% if attached %}，见附件“{{ attached }}”{% endif %}。
{% endif %}  {% if stage == "escalate" %}应办事项{% else %}办理方式{% endif %}：{{ group.what_to_do }}。
{% endfor %}
抽查任务：{{ campaign_name }}（{{ document_no }}）。如已办理，请忽略本邮件。

{{ signature }}
""",
}
@functools.cache
def _environment(legacy: bool):
    """Built on the first render: most commands (an idle tick among them) never render a message, and importing
    jinja2 would lengthen each one's start-up by some 20 ms."""
    from jinja2 import DictLoader, Environment, StrictUndefined

    return Environment(loader=DictLoader(LEGACY_TEMPLATES if legacy else _TEMPLATES), undefined=StrictUndefined,
                       autoescape=False, keep_trailing_newline=True)


def _templates(template: str, context: dict):
    """A message queued before schema 0008 (its context has no signature block) keeps the wording it was queued
    for (``legacy_templates``); everything else is a letter with a greeting and the office's signature."""
    return _environment("signature" not in context and f"{template}.body" in LEGACY_TEMPLATES)


def message_id(key: str, sender: str, secret: str) -> str:
    """The same key always gives the same Message-ID (a re-send is recognisably the same message), keyed by the
    database's secret: the key is made of public facts, and a reply to our Message-ID vouches for the file it
    carries, so nobody outside may compute one."""
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "ssj.local"
    digest = hmac.new(bytes.fromhex(secret), key.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"<{digest[:40]}@{domain}>"


def render(template: str, context: dict) -> tuple[str, str]:
    env = _templates(template, context)
    subject = env.get_template(f"{template}.subject").render(context).strip()
    body = env.get_template(f"{template}.body").render(context)
    if context.get("audit_anchor"):
        body = body.rstrip("\n") + "\n\n" + ANCHOR_NOTE.format(line=context["audit_anchor"])
    return subject, body


ANCHOR_NOTE = ("审计链头（请留存本邮件：日后可用 ssj audit verify --anchors 本邮件文件 核对此前的审计记录未被改写）：\n"
               "{line}\n")


def carries_anchor(template: str) -> bool:
    """The mails that take the campaign's audit chain head out of the database by themselves: the morning report
    and every 【待公布】 mail (the head is read when the mail is queued, ``services.audit_trail.with_anchor``)."""
    return template == "overdue_report" or _TEMPLATES.get(f"{template}.subject", "").startswith("【待公布】")


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class Unbuildable(ValueError):
    """A message that cannot be made from its inputs (the reason in Chinese): it waits until they change."""


def one_line(text: str) -> str:
    """A header value on one line: each run of CR, LF and other control characters becomes a single space;
    every other character (a full-width space, two spaces in a name) stays as the data has it."""
    return _CONTROLS.sub(" ", text).strip(" ")


def _address(value: str, what: str) -> str:
    if _CONTROLS.search(value) or not value.strip():
        raise Unbuildable(f"{what}地址“{value!r}”为空或含有换行、控制字符")
    return value


def build_message(*, sender: str, recipient: str, subject: str, body: str, message_id: str, date,
                  attachments: list[tuple[str, bytes | None]] = (), cc: Sequence[str] = (),
                  reply_to: str = "", in_reply_to: str = "") -> EmailMessage:
    """The message; names from the data never reach a header with a line break in them (no header injection).
    ``attachments``: (file name, content); content None means the file was missing when it was queued."""
    msg = EmailMessage()
    msg["From"] = _address(sender, "发件人")
    msg["To"] = _address(recipient, "收件人")
    if reply_to and reply_to != sender:  # answers reach the office's mailbox, where they are read
        msg["Reply-To"] = _address(reply_to, "回复")
    if cc:
        msg["Cc"] = ", ".join(_address(c, "抄送") for c in cc)
    msg["Subject"] = one_line(subject)
    msg["Message-ID"] = message_id
    if in_reply_to:  # our answer to a reply: mail clients thread it under the sender's message
        msg["In-Reply-To"] = one_line(in_reply_to)
        msg["References"] = one_line(in_reply_to)
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: an out-of-office responder does not answer it
    msg["Date"] = format_datetime(date)
    msg.set_content(body, charset="utf-8")
    for name, content in attachments:
        if content is None:
            raise Unbuildable(f"附件“{name}”不存在（生成后被删除或移走）")
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=one_line(name))
    return msg


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
_PLAIN_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,400}>")
_MAX_LINE = 78
_ASCII = bytes(range(127))  # the bytes quoted-printable may keep as they are (less, in fact: = and controls)


def message_bytes(*, sender: str, recipient: str, subject: str, body: str, message_id: str, date,
                  attachments: list[tuple[str, bytes | None]] = (), cc: Sequence[str] = (),
                  reply_to: str = "", in_reply_to: str = "") -> bytes:
    """The message as it goes on the wire (CRLF lines, before SMTP's dot-stuffing): what ``build_message`` makes,
    written directly for the common message (plain addresses, a text body, no files) — the ``email`` package's
    header parsing and folding cost milliseconds a message — and by ``build_message`` for every other one."""
    plain = (not attachments and _PLAIN_ADDRESS.fullmatch(sender) and _PLAIN_ADDRESS.fullmatch(recipient)
             and (not reply_to or _PLAIN_ADDRESS.fullmatch(reply_to)) and all(_PLAIN_ADDRESS.fullmatch(c) for c in cc)
             and _PLAIN_ID.fullmatch(message_id) and (not in_reply_to or _PLAIN_ID.fullmatch(in_reply_to)))
    if not plain:
        message = build_message(sender=sender, recipient=recipient, subject=subject, body=body, message_id=message_id,
                                date=date, attachments=attachments, cc=cc, reply_to=reply_to, in_reply_to=in_reply_to)
        buffer = io.BytesIO()
        BytesGenerator(buffer).flatten(message, linesep="\r\n")
        return buffer.getvalue()
    lines = [f"From: {sender}", f"To: {recipient}"]
    if reply_to and reply_to != sender:
        lines.append(f"Reply-To: {reply_to}")
    if cc:
        lines.append("Cc: " + ", ".join(cc))
    lines.append(_subject(one_line(subject)))
    lines.append(f"Message-ID: {message_id}")
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}", "Auto-Submitted: auto-replied"]
    cte, payload = _text(body)
    lines += [f"Date: {format_datetime(date)}", 'Content-Type: text/plain; charset="utf-8"',
              f"Content-Transfer-Encoding: {cte}", "MIME-Version: 1.0", "", ""]
    return "\r\n".join(lines).encode("ascii") + payload


def _subject(text: str) -> str:
    """``Subject:`` as RFC 2047 encoded words of at most 42 UTF-8 bytes each (lines under 78 characters), or as
    it is when it is short ASCII."""
    if text.isascii() and text.isprintable() and len(text) <= _MAX_LINE - 9 and text == text.strip():
        return f"Subject: {text}"
    words, chunk, size = [], [], 0
    for char in text:
        n = len(char.encode("utf-8", "surrogatepass"))
        if chunk and size + n > 42:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += n
    words.append("".join(chunk))
    encoded = [f"=?utf-8?b?{base64.b64encode(w.encode('utf-8', 'surrogatepass')).decode('ascii')}?=" for w in words]
    return "Subject: " + "\r\n ".join(encoded)


def _text(body: str) -> tuple[str, bytes]:
    """The body's transfer encoding and its CRLF bytes, chosen as ``EmailMessage.set_content`` chooses them."""
    lines = body.encode("utf-8", "surrogateescape").splitlines() or [b""]
    if max((len(x) for x in lines), default=0) <= _MAX_LINE:
        return ("7bit" if all(x.isascii() for x in lines) else "8bit"), b"".join(x + b"\r\n" for x in lines)
    data = b"\n".join(lines) + b"\n"
    sniff = b"\n".join(lines[:10]) + b"\n"
    base64_length = len(binascii.b2a_base64(sniff))
    # Each byte above 126 takes three characters in quoted-printable: where that alone outgrows base64 (Chinese
    # text, most letters), the full encoding need not be written to be compared.
    if len(sniff) + 2 * len(sniff.translate(None, _ASCII)) > base64_length \
            or len(quoprimime.body_encode(sniff.decode("latin-1"), _MAX_LINE)) > base64_length:
        step = _MAX_LINE // 4 * 3
        return "base64", b"".join(binascii.b2a_base64(data[i:i + step]).replace(b"\n", b"\r\n")
                                  for i in range(0, len(data), step))
    encoded = quoprimime.body_encode(data.decode("latin-1"), _MAX_LINE)
    return "quoted-printable", "".join(line + "\r\n" for line in encoded.splitlines()).encode("ascii")


def inputs_digest(template: str, context: str, recipient: str, sender: str,
                  attachments: list[tuple[str, bytes | None]]) -> str:
    """A fingerprint of everything a message is made from (the templates' wording included): when it changes,
    a message that could not be made is worth trying again."""
    parts = [_TEMPLATES.get(f"{template}.subject", ""), _TEMPLATES.get(f"{template}.body", ""), context, recipient,
             sender, *(f"{name}:{hashlib.sha256(content).hexdigest() if content is not None else '-'}"
                       for name, content in attachments)]
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def stored_files(mails: Sequence[Mail]) -> tuple[list[Mail], dict[str, list[tuple[str, bytes | None]]]]:
    """The files each mail names in ``context["attachments"]``, read now to be stored with it (a missing one is
    kept as missing: that message alone will not be made), and the mails without those local paths."""
    kept, files = [], {}
    for m in mails:
        paths = m.context.get("attachments")
        if not paths:
            kept.append(m)
            continue
        context = {k: v for k, v in m.context.items() if k != "attachments"}
        kept.append(Mail(m.key, m.recipient, m.kind, m.template, context, m.task_id, m.cc))
        files[m.key] = [read_attachment(path) for path in paths]
    return kept, files


def read_attachment(path: str) -> tuple[str, bytes | None]:
    """A file to attach: its name and content, or None for a file that is not there (that message alone fails)."""
    try:
        return Path(path).name, Path(path).read_bytes()
    except OSError:
        return Path(path).name, None
