"""What a message in the office mailbox is and whose (``workflow.replies``): the rules, without a mailbox."""

from workflow.file_tokens import CONFIRM_LIST, FORM, genuine, sign
from workflow.replies import (ACK, FORMS, HANDLED, LIST, MANUAL, REPORT, SUMMARY, OurMessage, ReturnedFile, Sender,
                              read_reply)

SECRET = "ab" * 32
ADMIN = Sender("admin@tax.gov.cn", departments=("SW",))
OFFICER = Sender("li@tax.gov.cn", officers=("11000001",))
DISPATCH = OurMessage("C1", "dispatch", ("admin@tax.gov.cn", "contact@tax.gov.cn"))
FORMS_MAIL = OurMessage("C1", "forms_dispatch", ("li@tax.gov.cn",))


def tokened(name: str, kind: str, party: str, *, secret: str = SECRET, campaign: str = "C1") -> ReturnedFile:
    token = sign(secret, campaign, kind, party)
    return ReturnedFile(name, token, genuine(SECRET, token), is_list=kind == CONFIRM_LIST)


def test_a_token_is_bound_to_its_campaign_kind_and_party():
    token = sign(SECRET, "C1", CONFIRM_LIST, "SW")
    assert genuine(SECRET, token)
    assert not genuine(SECRET, token.__class__("C1", CONFIRM_LIST, "SC", token.token))  # another department's
    assert not genuine(SECRET, token.__class__("C2", CONFIRM_LIST, "SW", token.token))
    assert not genuine(SECRET, token.__class__("C1", FORM, "SW", token.token))
    assert not genuine("cd" * 32, token)  # another database's secret


def test_the_departments_own_list_is_its_confirmation_answers_even_without_a_reference():
    reading = read_reply(ADMIN, [], [tokened("SW-比对确认.xlsx", CONFIRM_LIST, "SW")])
    assert (reading.kind, reading.campaign, reading.party, reading.actor) == (LIST, "C1", "SW", "admin@tax.gov.cn")
    assert reading.folder == HANDLED and not reading.problem


def test_another_departments_list_is_not_recorded_and_goes_to_the_office():
    reading = read_reply(ADMIN, [DISPATCH], [tokened("SC-比对确认.xlsx", CONFIRM_LIST, "SC")])
    assert reading.kind is None and "SC" in reading.problem and reading.suspect
    assert reading.folder == MANUAL and reading.tell_sender  # the real admin is told a file was refused


def test_a_tampered_token_is_refused():
    reading = read_reply(ADMIN, [DISPATCH], [tokened("SW.xlsx", CONFIRM_LIST, "SW", secret="ef" * 32)])
    assert reading.kind is None and "校验标记" in reading.problem and reading.folder == MANUAL


def test_a_stranger_is_never_answered():
    stranger = Sender("someone@example.com")
    reading = read_reply(stranger, [DISPATCH], [tokened("SW.xlsx", CONFIRM_LIST, "SW")])
    assert reading.kind is None and not reading.tell_sender and reading.folder == MANUAL
    assert "someone@example.com" in reading.problem


def test_a_scanned_report_counts_only_as_a_reply_to_our_message_to_that_address():
    scan = [ReturnedFile("盖章报告.pdf")]
    reading = read_reply(ADMIN, [DISPATCH], scan, open_tasks=lambda c, d: frozenset({REPORT, SUMMARY}))
    assert (reading.kind, reading.party, reading.files) == (REPORT, "SW", ("盖章报告.pdf",))
    elsewhere = OurMessage("C1", "dispatch", ("other@x.gov.cn",))
    refused = read_reply(ADMIN, [elsewhere], scan)
    assert refused.kind is None and refused.suspect
    assert read_reply(ADMIN, [], scan).kind is None  # no reference, no token: nothing to go on


def test_the_report_once_sent_makes_the_next_document_the_summary():
    reading = read_reply(ADMIN, [DISPATCH], [ReturnedFile("总结.docx")], open_tasks=lambda c, d: frozenset({SUMMARY}))
    assert reading.kind == SUMMARY
    summary_notice = OurMessage("C1", "notice_digest", ("admin@tax.gov.cn",), frozenset({"summary"}))
    assert read_reply(ADMIN, [summary_notice], [ReturnedFile("总结.pdf")]).kind == SUMMARY


def test_an_officer_acknowledges_by_replying_and_returns_forms_as_attachments():
    assert read_reply(OFFICER, [FORMS_MAIL], []).kind == ACK
    forms = read_reply(OFFICER, [FORMS_MAIL], [tokened("a.xlsx", FORM, "U1"), tokened("b.xlsx", FORM, "U2")])
    assert forms.kind == FORMS and forms.files == ("a.xlsx", "b.xlsx") and forms.actor == "11000001"
    photo = read_reply(OFFICER, [FORMS_MAIL], [ReturnedFile("现场.jpg")])
    assert photo.kind is None and "xlsx" in photo.problem and photo.tell_sender


def test_a_department_person_cannot_send_an_officers_form():
    reading = read_reply(ADMIN, [], [tokened("a.xlsx", FORM, "U1")])
    assert reading.kind is None and reading.suspect


def test_auto_replies_are_left_for_the_office_and_never_answered():
    reading = read_reply(ADMIN, [DISPATCH], [], automatic=True)
    assert reading.kind is None and not reading.tell_sender and reading.folder == MANUAL
