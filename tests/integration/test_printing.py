"""Every spreadsheet and document the office prints, rendered by LibreOffice as a clerk would print it.

One campaign carried to its back-fills writes every kind of file the product makes
(the departments' lists, the 一企一表 as XLSX and DOCX, the visit schedule, the
statistics table and the three reports); LibreOffice turns them all into PDF in one
run, and each must come out on A4, the right way round, on no more pages than a
clerk would accept — with its text at 9 pt or more once the sheet is fitted to the
page width, its labels whole, and names (not mailboxes or internal keys) on paper.
LibreOffice is part of the test environment (``.ci/run`` installs it): without it
this test fails rather than skips.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import openpyxl
import pytest

from tests.integration.conftest import CODE

A4 = (595.3, 841.9)  # points, portrait
PORTRAIT, LANDSCAPE = "portrait", "landscape"
# kind: (orientation of its first page, most pages it may take)
KINDS = {
    "一企一表.xlsx": (PORTRAIT, 2),
    "一企一表.docx": (PORTRAIT, 3),
    "实地核查安排.xlsx": (LANDSCAPE, 1),
    "比对确认派发清单.xlsx": (LANDSCAPE, 1),
    "抽查情况统计表.xlsx": (LANDSCAPE, 2),
    "逾期部门报告.xlsx": (LANDSCAPE, 4),
    "比对确认情况表.xlsx": (PORTRAIT, 5),
    "工作总结.xlsx": (PORTRAIT, 5),
}
UNIT_PT = 5.25  # one unit of Excel's column width (a '0' of the 11 pt body font, 7 px)
MIN_PT = 9


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        pytest.fail("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc libreoffice-writer "
                    "fonts-noto-cjk poppler-utils (.ci/run does it)")
    return found


def render(files: dict[str, Path], out: Path) -> dict[str, Path]:
    """All files to PDF in one LibreOffice run, with a profile of its own (parallel runs never share one)."""
    out.mkdir()
    named = {}
    for kind, path in files.items():  # one name per kind: the XLSX and DOCX form would both become <stem>.pdf
        named[kind] = out / f"{kind.replace('.', '-')}{path.suffix}"
        shutil.copy(path, named[kind])
    profile = out.parent / f"lo-profile-{uuid.uuid4().hex}"
    subprocess.run([soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), *map(str, named.values())], check=True, capture_output=True, timeout=180)
    shutil.rmtree(profile, ignore_errors=True)
    pdfs = {kind: path.with_suffix(".pdf") for kind, path in named.items()}
    missing = [kind for kind, pdf in pdfs.items() if not pdf.exists()]
    assert not missing, f"LibreOffice wrote no PDF for {missing}"
    return pdfs


def pages(pdf: Path) -> list[tuple[float, float]]:
    """Each page's size in points (poppler's pdfinfo)."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page +\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]


def text_of(pdf: Path) -> str:
    """The PDF's text with every space and line break taken out (a wrapped label reads whole again)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return "".join(text.split())


def printed_scale(sheet) -> float:
    """The scale fitting the sheet to the page width gives: the page's printable width over the columns' (and any
    chart's) width, as Excel, WPS and LibreOffice compute it."""
    setup = sheet.page_setup
    page_pt = A4[1] if setup.orientation == LANDSCAPE else A4[0]
    printable = page_pt - 72 * (sheet.page_margins.left + sheet.page_margins.right)
    widths = [sheet.column_dimensions[openpyxl.utils.get_column_letter(c)].width or 8.43
              for c in range(1, sheet.max_column + 1)]
    used = sum(widths) * UNIT_PT
    for chart in sheet._charts:
        start = sum(widths[:chart.anchor._from.col]) * UNIT_PT
        used = max(used, start + chart.anchor.ext.width / 12700)
    return min(1.0, printable / used)


def check_sheet(kind: str, sheet) -> None:
    setup = sheet.page_setup
    assert setup.paperSize in (9, "9"), f"{kind}/{sheet.title}: A4"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (1, "1"), \
        f"{kind}/{sheet.title}: fitted to the page width"
    assert setup.fitToHeight in (0, "0"), f"{kind}/{sheet.title}: as many pages down as it takes, never shrunk to one"
    scale = printed_scale(sheet)
    sizes = {cell.font.sz or 11 for row in sheet.iter_rows() for cell in row if cell.value not in (None, "")}
    assert min(sizes) * scale >= MIN_PT, f"{kind}/{sheet.title}: text printed at {min(sizes) * scale:.1f} pt"
    assert sheet.print_title_rows, f"{kind}/{sheet.title}: its header repeated on every page"
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and "\n" in cell.value and cell.alignment.wrap_text:
                lines = cell.value.count("\n") + 1
                height = sheet.row_dimensions[cell.row].height
                merged = [r for r in sheet.merged_cells.ranges if cell.coordinate in r]
                rows = merged[0].max_row - merged[0].min_row + 1 if merged else 1
                assert height and height * rows >= lines * (cell.font.sz or 11) * 1.2, \
                    f"{kind}/{sheet.title}!{cell.coordinate}: {lines} lines in a row {height} pt high"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_printed_file_fits_a4_legibly(reported, tmp_path):
    ssj, sampled, teams, _ = reported
    forms = tmp_path / "forms"
    files = {"一企一表.xlsx": sorted((forms / "一企一表").glob("*.xlsx"))[0],
             "一企一表.docx": sorted((forms / "一企一表").glob("*.docx"))[0],
             "实地核查安排.xlsx": forms / "实地核查安排.xlsx",
             "比对确认派发清单.xlsx": sorted((tmp_path / "files").rglob("派发/*.xlsx"))[0]}
    for kind, report, now in (("抽查情况统计表.xlsx", "stats", "2019-12-16T10:00"),
                              ("逾期部门报告.xlsx", "overdue", "2019-12-20T10:00"),
                              ("比对确认情况表.xlsx", "confirmation", "2019-12-16T10:00"),
                              ("工作总结.xlsx", "summary", "2019-12-16T10:00")):
        result = ssj("report", report, CODE, "--out", tmp_path / kind, "--now", now)
        assert result.code == 0, result.err
        files[kind] = tmp_path / kind
    assert set(files) == set(KINDS)

    for kind, path in files.items():
        if path.suffix == ".xlsx":
            for sheet in openpyxl.load_workbook(path).worksheets:
                if sheet.sheet_state == "visible":
                    check_sheet(kind, sheet)

    pdfs = render(files, tmp_path / "pdf")
    for kind, pdf in pdfs.items():
        orientation, most = KINDS[kind]
        sizes = pages(pdf)
        assert 1 <= len(sizes) <= most, f"{kind}: {len(sizes)} pages (at most {most})"
        assert all(sorted(size) == [pytest.approx(A4[0], abs=1), pytest.approx(A4[1], abs=1)] for size in sizes), \
            f"{kind}: every page A4, not {sizes}"
        width, height = sizes[0]
        assert (LANDSCAPE if width > height else PORTRAIT) == orientation, f"{kind}: {orientation}"

    texts = {kind: text_of(pdf) for kind, pdf in pdfs.items()}
    for label in ("到场检查人员（执法证号，用顿号分隔）", "签字情况（签字／盖章／拒绝签字／无人签字）", "现场解答疑难问题（个）"):
        assert label in texts["一企一表.xlsx"] and label in texts["一企一表.docx"], f"the form's label {label} whole"
    form = openpyxl.load_workbook(files["一企一表.xlsx"])["一企一表"]
    [header] = [row for row in form.iter_rows() if row[0].value == "检查部门"]
    for cell in header:  # each part of a header within its column: 检查结果 / （代码）, nothing cut
        width = form.column_dimensions[cell.column_letter].width
        parts = cell.value.replace("（", "\n（").split("\n")
        assert all(sum(2 if ord(ch) > 0x2E80 else 1 for ch in part) <= width - 1 for part in parts), \
            f"the form's header {cell.value!r} in a column {width} wide"
    stats = texts["抽查情况统计表.xlsx"]
    assert "联合抽查情况统计表" in stats and "抽查抽查" not in stats, "titled once"
    assert "各部门行相加不必等于" in stats and all(words in stats for words in ("填报单位（盖章）", "填报人", "联系电话",
                                                                          "填报日期"))
    assert "@" not in texts["比对确认情况表.xlsx"], "people by name, not by mailbox"
    assert re.search(r"2019年12月\d+日（星期.）(\d\d:\d\d)?前", texts["逾期部门报告.xlsx"]), "deadlines in the notice's words"
    assert not any("deadlines." in text for text in texts.values()), "no campaign-file key on paper"
    assert "总结、统计表报送" in texts["工作总结.xlsx"] and "2019年12月17日（星期二）前" in texts["工作总结.xlsx"]
