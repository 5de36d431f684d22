"""A reply from any Chinese mail client reads the same to the core: every raw message here is built as bytes,
so each encoding case is spelled out as the client sends it."""

from __future__ import annotations

import base64
import hashlib
import quopri
import random
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

from workflow.files.inbound_mail import TNEF_NOTE, InboundMail, parse_message, references_of

CRLF = b"\r\n"


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def word(text: str, charset: str, kind: str = "B") -> bytes:
    """One RFC 2047 encoded word, as a client writes it."""
    data = text.encode(charset)
    body = b64(data) if kind == "B" else "".join(f"={b:02X}" for b in data).encode()
    return b"=?" + charset.encode() + b"?" + kind.encode() + b"?" + body + b"?="


def message(headers: list[bytes], body: bytes = b"hello\r\n") -> bytes:
    base = [b"From: officer@example.gov.cn", b"To: office@example.cn", b"Subject: test",
            b"Date: Fri, 01 Mar 2024 09:30:00 +0800", b"Message-ID: <m1@example.gov.cn>"]
    names = {h.split(b":", 1)[0].lower() for h in headers}
    kept = [h for h in base if h.split(b":", 1)[0].lower() not in names]
    return CRLF.join(kept + headers) + CRLF + CRLF + body


def with_attachment(part_headers: list[bytes], content: bytes = b"%PDF-1.4 report", *, extra: bytes = b"",
                    top: list[bytes] = ()) -> bytes:
    """A reply with a short text body and one base64 attachment whose headers are given byte for byte."""
    body = (b"--BOUND\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xe5\xb7\xb2\xe5\x8a\x9e\xe7\x90\x86\r\n"
            b"--BOUND\r\n" + CRLF.join(part_headers) + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b64(content) + b"\r\n" + extra + b"--BOUND--\r\n")
    return message([b'Content-Type: multipart/mixed; boundary="BOUND"', *top], body)


def only_attachment(mail: InboundMail):
    assert len(mail.attachments) == 1, mail
    return mail.attachments[0]


# --- subjects ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("charset", ["utf-8", "gb2312", "gbk", "gb18030"])
@pytest.mark.parametrize("kind", ["B", "Q"])
def test_a_subject_in_rfc2047_reads_in_chinese(charset, kind):
    mail = parse_message(message([b"Subject: " + word("回复：关于双随机抽查的反馈", charset, kind)]))
    assert mail.subject == "回复：关于双随机抽查的反馈"


def test_a_gb2312_label_on_gbk_only_characters_still_reads():
    """镕 and 喆 are not in GB2312; Chinese clients label such text gb2312 all the same."""
    data = "朱镕基、张喆已核查".encode("gbk")
    mail = parse_message(message([b"Subject: =?gb2312?B?" + b64(data) + b"?="]))
    assert mail.subject == "朱镕基、张喆已核查"


def test_a_chinese_character_split_across_two_encoded_words_is_joined():
    data = "检查结果".encode("gbk")
    first, second = b64(data[:3]), b64(data[3:])
    mail = parse_message(message([b"Subject: =?GBK?B?" + first + b"?=\r\n =?GBK?B?" + second + b"?="]))
    assert mail.subject == "检查结果"


def test_a_folded_subject_becomes_one_line_and_raw_8bit_gbk_reads():
    mail = parse_message(message([b"Subject: " + "关于".encode("gbk") + b"\r\n\t" + "检查".encode("gbk")]))
    assert mail.subject == "关于 检查"
    assert "\n" not in mail.subject


# --- attachment names -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("charset", ["utf-8", "gb2312", "gbk", "gb18030"])
def test_an_rfc2047_filename_reads(charset):
    mail = parse_message(with_attachment([b"Content-Type: application/pdf",
                                          b'Content-Disposition: attachment; filename="' + word("核查报告.pdf", charset)
                                          + b'"']))
    assert only_attachment(mail).filename == "核查报告.pdf"


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_an_rfc2231_filename_reads(charset):
    quoted = urllib.parse.quote("企业检查记录表.xlsx".encode(charset)).encode()
    mail = parse_message(with_attachment([b"Content-Type: application/octet-stream",
                                          b"Content-Disposition: attachment; filename*=" + charset.encode() + b"''" + quoted]))
    assert only_attachment(mail).filename == "企业检查记录表.xlsx"


def test_an_rfc2231_filename_in_continuations_reads():
    quoted = urllib.parse.quote("企业检查记录表（第二批）.docx".encode("utf-8"))
    parts = [quoted[:18], quoted[18:45], quoted[45:]]  # clients cut between %XX triplets
    mail = parse_message(with_attachment([
        b"Content-Type: application/octet-stream",
        b"Content-Disposition: attachment;\r\n filename*0*=UTF-8''" + parts[0].encode()
        + b";\r\n filename*1*=" + parts[1].encode() + b";\r\n filename*2*=" + parts[2].encode()]))
    assert only_attachment(mail).filename == "企业检查记录表（第二批）.docx"


def test_a_gbk_rfc2231_continuation_split_inside_a_character_reads():
    quoted = urllib.parse.quote("镕基检查.pdf".encode("gbk"))
    mail = parse_message(with_attachment([
        b"Content-Type: application/pdf",
        b"Content-Disposition: attachment; filename*0*=gbk''" + quoted[:3].encode()
        + b"; filename*1*=" + quoted[3:].encode()]))  # "%E9" | "F%BB…": 镕 is E9 46
    assert only_attachment(mail).filename == "镕基检查.pdf"


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_raw_8bit_bytes_in_the_filename_read(encoding):
    """Old clients put the name's bytes straight in the header; UTF-8 when they are valid UTF-8, else GBK."""
    name = "整改报告-镕.doc".encode(encoding)
    mail = parse_message(with_attachment([b'Content-Type: application/msword; name="' + name + b'"',
                                          b'Content-Disposition: attachment; filename="' + name + b'"']))
    assert only_attachment(mail).filename == "整改报告-镕.doc"


def test_a_filename_only_in_the_content_type_name_reads():
    mail = parse_message(with_attachment([b'Content-Type: application/pdf; name="' + word("回执.pdf", "gbk") + b'"']))
    attachment = only_attachment(mail)
    assert attachment.filename == "回执.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.content == b"%PDF-1.4 report"
    assert attachment.sha256 == hashlib.sha256(b"%PDF-1.4 report").hexdigest()


def test_an_outlook_style_quoted_encoded_word_split_over_lines_reads():
    name = "关于企业检查情况的说明（盖章版）.pdf".encode("gbk")
    first, second = b64(name[:18]), b64(name[18:])
    mail = parse_message(with_attachment([
        b'Content-Type: application/pdf;\r\n\tname="=?GBK?B?' + first + b'?=\r\n =?GBK?B?' + second + b'?="',
        b'Content-Disposition: attachment;\r\n\tfilename="=?GBK?B?' + first + b'?=\r\n =?GBK?B?' + second + b'?="']))
    assert only_attachment(mail).filename == "关于企业检查情况的说明（盖章版）.pdf"


@pytest.mark.parametrize("sent, saved", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\张三\\桌面\\报告.pdf", "报告.pdf"),
    ("bad\u202eexe.pdf", "badexe.pdf"),
    ("a\x07b\tc.txt", "abc.txt"),
    ("问题?清单*.xlsx", "问题_清单_.xlsx"),
])
def test_a_filename_is_a_safe_base_name(sent, saved):
    mail = parse_message(with_attachment([b"Content-Type: application/octet-stream",
                                          b"Content-Disposition: attachment; filename*=utf-8''"
                                          + urllib.parse.quote(sent.encode()).encode()]))
    assert only_attachment(mail).filename == saved


def test_a_nameless_attachment_is_called_by_its_number_and_type():
    mail = parse_message(with_attachment([b"Content-Type: application/pdf", b"Content-Disposition: attachment"]))
    assert only_attachment(mail).filename == "附件1.pdf"


def test_an_overlong_name_is_cut_but_keeps_its_extension():
    mail = parse_message(with_attachment([b"Content-Type: application/pdf",
                                          b"Content-Disposition: attachment; filename*=utf-8''"
                                          + urllib.parse.quote(("长" * 300 + ".pdf").encode()).encode()]))
    name = only_attachment(mail).filename
    assert name.endswith(".pdf") and len(name.encode()) <= 200


# --- bodies -----------------------------------------------------------------------------------------------------

TEXT = "您好：\n经核查，该企业已整改完毕（朱镕基路 12 号）。\n"


@pytest.mark.parametrize("label, codec", [("utf-8", "utf-8"), ("gb2312", "gbk"), ("GBK", "gbk"),
                                          ("gb18030", "gb18030")])
@pytest.mark.parametrize("transfer", ["quoted-printable", "base64"])
def test_a_body_reads_in_any_chinese_charset_and_transfer_encoding(label, codec, transfer):
    data = TEXT.replace("\n", "\r\n").encode(codec)
    encoded = quopri.encodestring(data) if transfer == "quoted-printable" else base64.encodebytes(data)
    mail = parse_message(message([f"Content-Type: text/plain; charset=\"{label}\"".encode(),
                                  f"Content-Transfer-Encoding: {transfer}".encode()], encoded))
    assert mail.text == TEXT


@pytest.mark.parametrize("label", ["x-nonsense-9", "zlib", "us-ascii", "iso-8859-1", "utf-8"])
def test_a_mislabelled_or_unknown_charset_falls_back_to_gbk(label):
    """Webmail of old labels GBK bytes as anything; the body must still read (and never raise)."""
    mail = parse_message(message([f"Content-Type: text/plain; charset={label}".encode(),
                                  b"Content-Transfer-Encoding: 8bit"], TEXT.encode("gbk")))
    assert mail.text == TEXT


def test_undecodable_bytes_give_replacement_characters_not_an_error():
    mail = parse_message(message([b"Content-Type: text/plain; charset=utf-8",
                                  b"Content-Transfer-Encoding: 8bit"], "已办理".encode() + b"\xff\xfe\x80"))
    assert mail.text.startswith("已") and "\ufffd" in mail.text


def test_plain_text_is_preferred_over_html_in_an_alternative():
    body = (b"--ALT\r\nContent-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b64("纯文本版本".encode("gbk")) + b"\r\n--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            + "<p>网页版本</p>".encode() + b"\r\n--ALT--\r\n")
    mail = parse_message(message([b'Content-Type: multipart/alternative; boundary="ALT"'], body))
    assert mail.text == "纯文本版本"


def test_html_only_mail_gives_its_visible_text():
    page = ("<html><head><title>t</title><style>p{color:red}</style></head><body><div>您好：</div>"
            "<p>已核查&nbsp;完毕&amp;整改</p><script>alert(1)</script><table><tr><td>企业</td><td>结果</td></tr>"
            "</table></body></html>").encode("gbk")
    mail = parse_message(message([b"Content-Type: text/html; charset=gb2312",
                                  b"Content-Transfer-Encoding: base64"], base64.encodebytes(page)))
    assert mail.text == "您好：\n\n已核查 完毕&整改\n\n企业 结果"


# --- parts left aside -------------------------------------------------------------------------------------------

def test_winmail_dat_is_ignored_with_a_note():
    mail = parse_message(with_attachment([b'Content-Type: application/ms-tnef; name="winmail.dat"',
                                          b'Content-Disposition: attachment; filename="winmail.dat"'],
                                         b"\x78\x9f\x3e\x22 tnef"))
    assert mail.attachments == ()
    assert mail.ignored == (TNEF_NOTE,)
    assert mail.text == "已办理"


def test_an_attachment_over_the_limit_is_listed_not_kept():
    big = b"x" * 2000
    mail = parse_message(with_attachment([b"Content-Type: application/zip",
                                          b'Content-Disposition: attachment; filename="' + word("全部材料.zip", "gbk")
                                          + b'"'], big), max_attachment_bytes=1000)
    assert mail.attachments == ()
    assert mail.oversize == (("全部材料.zip", 2000),)


def test_a_forwarded_message_and_its_attachments_are_not_the_reply():
    inner = message([b"Subject: " + word("下级单位的报告", "gbk"), b'Content-Type: multipart/mixed; boundary="IN"'],
                    b"--IN\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nforwarded words\r\n--IN\r\n"
                    b'Content-Type: application/pdf; name="x.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
                    + b64(b"pdf") + b"\r\n--IN--\r\n")
    extra = b"--BOUND\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n"
    mail = parse_message(with_attachment([b'Content-Type: application/pdf; name="own.pdf"'], extra=extra))
    assert [a.filename for a in mail.attachments] == ["own.pdf"]
    assert mail.text == "已办理"
    assert len(mail.ignored) == 1 and "下级单位的报告" in mail.ignored[0] and "1 个附件" in mail.ignored[0]


def test_a_signature_image_without_a_name_is_no_attachment():
    body = (b"--REL\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>ok</p><img src=\"cid:logo\">\r\n"
            b"--REL\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\nContent-Disposition: inline\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(b"\x89PNG") + b"\r\n--REL--\r\n")
    mail = parse_message(message([b'Content-Type: multipart/related; boundary="REL"'], body))
    assert mail.attachments == () and mail.ignored == () and mail.text == "ok"


def test_a_nameless_image_the_mail_does_not_embed_is_kept():
    mail = parse_message(with_attachment([b"Content-Type: image/jpeg"], b"\xff\xd8jpeg"))
    assert only_attachment(mail).filename == "附件1.jpg"


# --- identity and threading -------------------------------------------------------------------------------------

def test_ids_are_normalised_and_references_read_newest_first():
    mail = parse_message(message([b"Message-ID:   < abc@qq.com >  ",
                                  b"In-Reply-To: <ssj.3@office.example.cn>",
                                  b"References: <ssj.1@office.example.cn>\r\n <ssj.2@office.example.cn>\r\n\t"
                                  b"<ssj.3@office.example.cn>"]))
    assert mail.message_id == "<abc@qq.com>"
    assert mail.references == ("<ssj.1@office.example.cn>", "<ssj.2@office.example.cn>", "<ssj.3@office.example.cn>")
    assert references_of(mail) == ("<ssj.3@office.example.cn>", "<ssj.2@office.example.cn>",
                                   "<ssj.1@office.example.cn>")


def test_a_missing_message_id_is_none_and_bare_ids_are_bracketed():
    raw = message([b"In-Reply-To: ssj.7@office.example.cn"]).replace(b"Message-ID: <m1@example.gov.cn>\r\n", b"")
    mail = parse_message(raw)
    assert mail.message_id is None
    assert mail.in_reply_to == ("<ssj.7@office.example.cn>",)


def test_the_date_is_aware():
    assert parse_message(message([])).date == datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert parse_message(message([b"Date: Fri, 01 Mar 2024 09:30:00 -0000"])).date.tzinfo is not None
    assert parse_message(message([b"Date: 2024\xc4\xea3\xd4\xc21\xc8\xd5"])).date is None


def test_the_sender_is_the_from_address_with_a_gbk_display_name():
    mail = parse_message(message([b"From: " + word("市场监管局 张喆", "gbk") + b" <Zhang.Zhe@EXAMPLE.GOV.CN>",
                                  b"Reply-To: other@elsewhere.cn", b"Sender: robot@relay.cn"]))
    assert mail.sender == "Zhang.Zhe@example.gov.cn"
    assert mail.sender_name == "市场监管局 张喆"


def test_a_raw_gbk_display_name_and_a_quoted_encoded_name_read():
    raw = parse_message(message([b'From: "' + "王镕".encode("gbk") + b'" <w@163.com>']))
    quoted = parse_message(message([b'From: "' + word("李四", "utf-8") + b'" <l@qq.com>']))
    assert (raw.sender, raw.sender_name) == ("w@163.com", "王镕")
    assert (quoted.sender, quoted.sender_name) == ("l@qq.com", "李四")


def test_an_address_encoded_inside_the_word_is_still_found():
    mail = parse_message(message([b"From: " + word("张三 <zs@Example.cn>", "gbk")]))
    assert (mail.sender, mail.sender_name) == ("zs@example.cn", "张三")


@pytest.mark.parametrize("value", [b"From: ", b"From: not an address", b"From: <>", b"From: a@b@c"])
def test_an_invalid_sender_is_empty(value):
    assert parse_message(message([value])).sender == ""


# --- automatic mail ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    b"Auto-Submitted: auto-replied", b"Auto-Submitted: auto-generated", b"X-Autoreply: yes",
    b"X-Autorespond: 1", b"Precedence: bulk", b"Precedence: junk", b"Precedence: list", b"Return-Path: <>",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=R",
    b"From: MAILER-DAEMON@mx.example.cn", b"From: Postmaster <postmaster@163.com>",
    b"Subject: " + word("自动回复：您好，我正在休假", "gbk"),
])
def test_machine_mail_is_automatic(header):
    assert parse_message(message([header])).automatic


@pytest.mark.parametrize("header", [b"Auto-Submitted: no", b"Return-Path: <officer@example.gov.cn>",
                                    b"Precedence: normal", b"Subject: Re: auto reply"])
def test_a_person_s_reply_is_not_automatic(header):
    assert not parse_message(message([header])).automatic


# --- never raises -----------------------------------------------------------------------------------------------

def test_garbage_headers_give_what_could_be_read():
    raw = (b"From: \xff\xfe <x@Y.CN>\r\nSubject: =?bogus?B?!!!?= =?utf-8?Q?=E4=B8?=\r\nDate: yesterday\r\n"
           b"Message-ID: <<<>>>\r\nContent-Type: multipart/mixed; boundary=\r\nContent-Transfer-Encoding: base64\r\n"
           b"\r\n--\r\n\xff")
    mail = parse_message(raw)
    assert mail.sender == "x@y.cn" and mail.date is None


def test_random_and_truncated_bytes_never_raise():
    rng = random.Random(18)
    whole = with_attachment([b"Content-Type: application/pdf; name=\"" + "报告".encode("gbk") + b"\""],
                            top=[b"Subject: " + word("回复", "gbk"), b"References: <a@b> <c@d>"])
    samples = [whole[:n] for n in range(0, len(whole), 7)]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(400))) for _ in range(300)]
    samples += [bytes(b if rng.random() > 0.05 else rng.randrange(256) for b in whole) for _ in range(200)]
    for sample in samples:
        assert isinstance(parse_message(sample), InboundMail)


def test_a_message_nested_past_the_parser_s_depth_keeps_its_headers():
    raw = b"Subject: deep\r\n" + b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
                                          for i in range(2000))
    mail = parse_message(raw)
    assert mail.subject == "deep"
    assert mail.ignored == ("邮件结构损坏，正文和附件无法读取",)


@pytest.mark.parametrize("value, sender, name", [
    (b"admin@sw.luquan.example <evil@x.com>", "evil@x.com", "admin@sw.luquan.example"),  # unquoted, as spoofers write
    (b'"admin@sw.luquan.example" <evil@x.com>', "evil@x.com", "admin@sw.luquan.example"),
    (b"Zhang, San <Zhang@SW.Example>", "Zhang@sw.example", "Zhang, San"),
    (b"<only@x.cn>", "only@x.cn", ""),
])
def test_the_sender_is_the_address_in_brackets_that_mail_clients_show_and_answer(value, sender, name):
    mail = parse_message(b"From: " + value + b"\r\nSubject: x\r\n\r\nbody\r\n")
    assert (mail.sender, mail.sender_name) == (sender, name)
