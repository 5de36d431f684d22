"""What departments send by a deadline: the stamped confirmation report and the summary, kept as sent."""

from __future__ import annotations

import hashlib

import openpyxl
import pytest
from docx import Document
from sqlalchemy import select

from tests.conftest import draw_campaign, snapshot
from workflow.persistence import orm
from workflow.persistence.database import make_engine

CODE = "luquan-2019-h2"


@pytest.fixture
def dispatched(loaded):
    draw_campaign(loaded)
    return loaded


def documents(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(orm.SubmittedDocument.__table__)).all()
        tasks = {(t.kind, t.department_code): t for t in conn.execute(select(orm.TaskRow.__table__).where(
            orm.TaskRow.kind.in_(("confirmation_report", "summary"))))}
    engine.dispose()
    return rows, tasks


def test_the_stamped_report_is_kept_as_sent_and_closes_the_task(dispatched, db_url, tmp_path):
    ssj = dispatched
    scan = tmp_path / "区税务局比对确认报告（盖章）.pdf"
    scan.write_bytes(b"%PDF-1.4 stamped scan")
    early = ssj("confirm", "report", CODE, "SW", scan, "--user", "contact@sw.luquan.example",
                "--now", "2019-12-02T16:00")
    assert early.code == 0 and "已逾期" not in early.out
    late = ssj("confirm", "report", CODE, "SJ", scan, "--user", "contact@sj.luquan.example", "--now", "2019-12-02T17:30")
    assert late.code == 0 and "已逾期" in late.out, "the seed's cutoff is 12-02 17:00"
    rows, tasks = documents(db_url)
    assert {r.department_code for r in rows} == {"SW", "SJ"}
    assert rows[0].content == scan.read_bytes() and rows[0].sha256 == hashlib.sha256(scan.read_bytes()).hexdigest()
    assert tasks[("confirmation_report", "SW")].outcome == "done"
    assert tasks[("confirmation_report", "RS")].done_at is None
    stranger = ssj("confirm", "report", CODE, "RS", scan, "--user", "contact@sw.luquan.example")
    assert stranger.code == 2 and "不是鹿泉区人力资源和社会保障局的管理员或联络人" in stranger.err


def test_summaries_from_docx_xlsx_and_pdf(dispatched, db_url, tmp_path):
    ssj = dispatched
    doc = Document()
    doc.add_heading("鹿泉区市场监督管理局联合抽查工作总结", 1)
    for heading, text in (("一、亮点", "首次实现双随机全程留痕。"), ("二、经验做法", "部门联动，一次上门。"),
                          ("三、存在问题", "个别企业住所无法联系。")):
        doc.add_heading(heading, 2)
        doc.add_paragraph(text)
    doc.save(tmp_path / "sj.docx")
    assert ssj("summary", "submit", CODE, "SJ", tmp_path / "sj.docx", "--user", "contact@sj.luquan.example",
               "--now", "2019-12-16T10:00").code == 0
    book = openpyxl.Workbook()
    book.active.append(["亮点", "税企联合检查"])
    book.active.append(["经验做法", "信息比对在前"])
    book.active.append(["存在问题", "无"])
    book.save(tmp_path / "sw.xlsx")
    assert ssj("summary", "submit", CODE, "SW", tmp_path / "sw.xlsx", "--user", "contact@sw.luquan.example",
               "--now", "2019-12-18T10:00").code == 0
    (tmp_path / "rs.pdf").write_bytes(b"%PDF-1.4 summary")
    before = snapshot(db_url)
    no_text = ssj("summary", "submit", CODE, "RS", tmp_path / "rs.pdf", "--user", "contact@rs.luquan.example")
    assert no_text.code == 2 and "--highlights" in no_text.err
    assert {k: v for k, v in snapshot(db_url).items() if not k.startswith("audit")} == \
        {k: v for k, v in before.items() if not k.startswith("audit")}
    assert ssj("summary", "submit", CODE, "RS", tmp_path / "rs.pdf", "--user", "contact@rs.luquan.example",
               "--highlights", "劳动保障监察同步开展").code == 0
    rows, tasks = documents(db_url)
    by = {r.department_code: r for r in rows}
    assert (by["SJ"].highlights, by["SJ"].practices, by["SJ"].problems) == (
        "首次实现双随机全程留痕。", "部门联动，一次上门。", "个别企业住所无法联系。")
    assert (by["SW"].highlights, by["SW"].problems) == ("税企联合检查", "无")
    assert by["RS"].highlights == "劳动保障监察同步开展"
    assert tasks[("summary", "SW")].done_at > tasks[("summary", "SW")].due_at, "sent after 12-17: late"
    assert ssj("report", "summary", CODE, "--out", tmp_path / "summary.xlsx", "--now", "2019-12-18T12:00").code == 0
    sheet = openpyxl.load_workbook(tmp_path / "summary.xlsx")["部门总结"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=5, values_only=True)}
    assert rows["鹿泉区市场监督管理局"][2] == "首次实现双随机全程留痕。" and rows["鹿泉区统计局"][1] == "未报送"


def test_a_summary_may_run_over_lines_but_holds_no_control_character(dispatched, db_url, tmp_path):
    """Its parts go into the summary report's XLSX: a control character is refused by the part it is in."""
    ssj = dispatched
    book = openpyxl.Workbook()
    book.active.append(["亮点", "税企联合检查\n信息比对在前"])
    book.active.append(["存在问题", "个别企业_x000B_住所无法联系"])  # Word's manual line break, as Excel writes it
    book.save(tmp_path / "sw.xlsx")
    before = snapshot(db_url)
    user = ("--user", "contact@sw.luquan.example", "--now", "2019-12-16T10:00")
    refused = ssj("summary", "submit", CODE, "SW", tmp_path / "sw.xlsx", *user)
    assert refused.code == 2 and refused.err_lines == [f"{tmp_path / 'sw.xlsx'}: 存在问题: 含有不可见控制字符（U+000B）"]
    (tmp_path / "sw.pdf").write_bytes(b"%PDF-1.4 summary")
    typed = ssj("summary", "submit", CODE, "SW", tmp_path / "sw.pdf", "--highlights", "联合\x1b[2J检查", *user)
    assert typed.code == 2 and typed.err_lines[-1] == "错误：'--highlights' 的取值无效：含有不可见控制字符（U+001B）"
    assert {k: v for k, v in snapshot(db_url).items() if not k.startswith("audit")} == \
        {k: v for k, v in before.items() if not k.startswith("audit")}


def test_an_oversized_scan_is_refused_before_it_is_read(dispatched, db_url, tmp_path):
    """A 60 MB file (sparse: nothing is written) is refused by its size; nothing is kept, the task stays open."""
    ssj = dispatched
    scan = tmp_path / "区税务局比对确认报告（盖章）.pdf"
    with open(scan, "wb") as handle:
        handle.truncate(60 * 1024 * 1024)
    refused = ssj("confirm", "report", CODE, "SW", scan, "--user", "contact@sw.luquan.example",
                  "--now", "2019-12-02T16:00")
    assert refused.code == 2 and refused.err_lines == [f"{scan}: 文件有 60 MB，超过上限 50 MB（请压缩扫描件后再报送）"]
    rows, tasks = documents(db_url)
    assert rows == [] and tasks[("confirmation_report", "SW")].done_at is None
