"""The office's mailbox against a real Dovecot (and a real Maildir): what the reply reader relies on."""

from __future__ import annotations

import imaplib
import mailbox

import pytest

from tests.mail_server_imap import NO_MOVE_HOST, dovecot, imap_account  # noqa: F401 - fixtures
from workflow.services.imap import (ImapConfig, ImapMailbox, MailboxNotConfigured, MailboxUnavailable, decode_folder,
                                    encode_folder, open_mailbox)
from workflow.services.maildir import MaildirMailbox

ONE = b"From: a@dept.example\r\nSubject: =?utf-8?b?5Zue5aSN?=\r\n\r\n\xe5\x9b\x9e\xe5\xa4\x8d 1\r\n"
TWO = b"From: b@dept.example\r\nSubject: two\r\n\r\nbody 2\r\n"


def imap(account, **kw) -> ImapMailbox:
    return ImapMailbox(ImapConfig.from_env(account.env(**kw)))


# -- configuration and folder names ------------------------------------------------------------------------

def test_no_host_means_no_imap_and_a_maildir_or_nothing(tmp_path):
    assert ImapConfig.from_env({"SSJ_IMAP_HOST": "  "}) is None
    assert open_mailbox({}) is None
    assert isinstance(open_mailbox({"SSJ_MAILDIR": str(tmp_path)}), MaildirMailbox)
    assert isinstance(open_mailbox({"SSJ_IMAP_HOST": "h", "SSJ_IMAP_USER": "u", "SSJ_MAILDIR": "x"}), ImapMailbox)


def test_ports_follow_the_security_and_the_password_is_not_shown():
    ssl_config = ImapConfig.from_env({"SSJ_IMAP_HOST": "mail.example", "SSJ_IMAP_USER": "u", "SSJ_IMAP_PASSWORD": "pw"})
    assert (ssl_config.security, ssl_config.port, ssl_config.folder) == ("ssl", 993, "INBOX")
    assert "pw" not in repr(ssl_config)
    plain = ImapConfig.from_env({"SSJ_IMAP_HOST": "h", "SSJ_IMAP_USER": "u", "SSJ_IMAP_SECURITY": "starttls",
                                 "SSJ_IMAP_FOLDER": "回复"})
    assert (plain.port, plain.folder) == (143, "回复")


@pytest.mark.parametrize("env, variable", [
    ({"SSJ_IMAP_SECURITY": "tls"}, "SSJ_IMAP_SECURITY"),
    ({"SSJ_IMAP_PORT": "99999"}, "SSJ_IMAP_PORT"),
    ({"SSJ_IMAP_PORT": "imap"}, "SSJ_IMAP_PORT"),
    ({"SSJ_IMAP_USER": ""}, "SSJ_IMAP_USER"),
])
def test_a_bad_setting_is_refused_naming_the_variable(env, variable):
    with pytest.raises(MailboxNotConfigured, match=variable) as caught:
        ImapConfig.from_env({"SSJ_IMAP_HOST": "h", "SSJ_IMAP_USER": "u", **env})
    assert "无效" in str(caught.value) or "未设置" in str(caught.value)


@pytest.mark.parametrize("name, wire", [("已处理", "&XfJZBHQG-"), ("需人工处理", "&lwBOul3lWQR0Bg-"), ("INBOX", "INBOX"),
                                        ("R&D 回复", "R&-D &Vt5ZDQ-"), ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-")])
def test_folder_names_travel_in_modified_utf7(name, wire):
    assert encode_folder(name) == wire
    assert decode_folder(wire) == name


def test_folder_names_match_what_imaplib_servers_send():
    """RFC 3501's own example, and a round trip of characters outside the BMP."""
    assert decode_folder("~peter/mail/&U,BTFw-/&ZeVnLIqe-") == "~peter/mail/台北/日本語"
    assert decode_folder(encode_folder("回复😀&x")) == "回复😀&x"
    with pytest.raises(ValueError):
        decode_folder("&Jjo!-")


# -- against Dovecot --------------------------------------------------------------------------------------

def test_appended_mail_is_listed_oldest_first_and_read_without_being_marked_seen(imap_account):
    with imap(imap_account) as box:
        box.append(ONE)
        box.append(TWO)
        listed = box.messages()
        assert [m.size for m in listed] == [len(ONE), len(TWO)]
        assert box.fetch(listed[0].uid) == ONE
        assert box.headers(listed[1].uid) == b"From: b@dept.example\r\nSubject: two\r\n\r\n"
    other = imaplib.IMAP4(imap_account.host, imap_account.port)
    other.login(imap_account.user, imap_account.password)
    other.select("INBOX", readonly=True)
    typ, data = other.search(None, "UNSEEN")
    other.logout()
    assert data[0].split() == [b"1", b"2"]


@pytest.mark.parametrize("host", ["127.0.0.1", NO_MOVE_HOST], ids=["MOVE", "COPY-and-EXPUNGE"])
def test_moved_mail_lands_in_chinese_folders_another_client_sees(imap_account, host):
    with imap(imap_account, host=host) as box:
        if host == NO_MOVE_HOST:
            assert "MOVE" not in box._capabilities  # the fallback is what runs here
        for raw in (ONE, TWO, ONE):
            box.append(raw)
        first, second, third = box.messages()
        box.move(first.uid, "已处理")
        box.move(second.uid, "需人工处理")
        assert box.messages() == [third]
        box.move(third.uid, "已处理")
        assert box.messages() == []
    with imap(imap_account, folder="已处理") as done, imap(imap_account, folder="需人工处理") as manual:
        assert [done.fetch(m.uid) for m in done.messages()] == [ONE, ONE]
        assert [manual.fetch(m.uid) for m in manual.messages()] == [TWO]
        assert {"INBOX", "已处理", "需人工处理"} <= set(done.folders())
    other = imaplib.IMAP4(imap_account.host, imap_account.port)
    other.login(imap_account.user, imap_account.password)
    names = other.list()[1]
    other.logout()
    assert any(n.endswith((b' &XfJZBHQG-', b' "&XfJZBHQG-"')) for n in names)  # 已处理, not its UTF-8 bytes


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_a_private_ca_named_by_ssl_cert_file(imap_account, dovecot, monkeypatch, security):
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.ca_file))
    with imap(imap_account, security=security) as box:
        box.append(TWO)
        assert box.fetch(box.messages()[0].uid) == TWO


def test_an_untrusted_certificate_is_refused_in_chinese(imap_account, monkeypatch, tmp_path):
    empty = tmp_path / "none.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    with pytest.raises(MailboxUnavailable, match="服务器证书验证失败"):
        imap(imap_account, security="ssl").__enter__()


def test_a_wrong_password_is_a_chinese_reason(imap_account):
    config = ImapConfig.from_env({**imap_account.env(), "SSJ_IMAP_PASSWORD": "wrong"})
    with pytest.raises(MailboxUnavailable, match=r"^登录被拒绝，请检查 SSJ_IMAP_USER 和 SSJ_IMAP_PASSWORD（.*AUTHENTICATIONFAILED"):
        ImapMailbox(config).__enter__()


def test_a_missing_folder_is_named(imap_account):
    with pytest.raises(MailboxUnavailable, match="没有文件夹“回复邮件”，请检查 SSJ_IMAP_FOLDER"):
        imap(imap_account, folder="回复邮件").__enter__()


def test_a_stopped_server_is_connection_refused(imap_account, dovecot):
    with dovecot.down():
        with pytest.raises(MailboxUnavailable, match=r"^连接被拒绝，服务器未运行或端口不对（"):
            imap(imap_account).__enter__()
    with imap(imap_account) as box:  # back again
        assert box.messages() == []


def test_a_message_gone_meanwhile_is_unavailable_not_lost(imap_account):
    with imap(imap_account) as box:
        box.append(ONE)
        [message] = box.messages()
        box.move(message.uid, "已处理")
        with pytest.raises(MailboxUnavailable, match="已没有"):
            box.fetch(message.uid)
        with pytest.raises(MailboxUnavailable):
            box.move(message.uid, "需人工处理")
    with imap(imap_account, folder="已处理") as done:
        assert len(done.messages()) == 1


# -- the Maildir -----------------------------------------------------------------------------------------

def test_maildir_lists_reads_and_moves_into_chinese_subfolders(tmp_path):
    with MaildirMailbox(tmp_path / "mail", create=True) as box:
        for raw in (ONE, TWO, ONE):
            box.append(raw)
        first, second, third = box.messages()
        assert [m.size for m in (first, second)] == [len(ONE), len(TWO)]
        assert box.fetch(second.uid) == TWO
        assert box.headers(second.uid) == b"From: b@dept.example\r\nSubject: two\r\n\r\n"
        box.move(first.uid, "已处理")
        box.move(second.uid, "需人工处理")
        assert box.messages() == [third]
    assert (tmp_path / "mail" / ".已处理" / "maildirfolder").exists()
    done = mailbox.Maildir(tmp_path / "mail", create=False).get_folder("已处理")
    assert [done.get_bytes(k) for k in done.keys()] == [ONE]
    with MaildirMailbox(tmp_path / "mail", folder="需人工处理") as manual:
        assert [manual.fetch(m.uid) for m in manual.messages()] == [TWO]
        assert "S" not in mailbox.Maildir(tmp_path / "mail").get_folder("需人工处理").get_message(
            manual.messages()[0].uid).get_flags()


def test_maildir_missing_is_unavailable_not_empty(tmp_path):
    with pytest.raises(MailboxUnavailable, match="SSJ_MAILDIR"):
        MaildirMailbox(tmp_path / "typo").__enter__()
    mailbox.Maildir(tmp_path / "mail")  # created: cur, new, tmp
    with pytest.raises(MailboxUnavailable, match="没有文件夹“回复”"):
        MaildirMailbox(tmp_path / "mail", folder="回复").__enter__()
