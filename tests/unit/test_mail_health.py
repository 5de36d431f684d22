"""The words the office reads about its mail: why a server could not be reached, and the board's 邮件 lines."""

from __future__ import annotations

import smtplib
import socket
import ssl
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from workflow.services.mail_health import MailHealth
from workflow.services.smtp import reason

BEIJING = ZoneInfo("Asia/Shanghai")
NOW = datetime(2019, 11, 28, 10, 0, tzinfo=BEIJING)


def test_a_connection_failure_is_said_in_chinese_with_the_systems_own_words():
    refused = ConnectionRefusedError(111, "Connection refused")
    assert reason(refused) == "连接被拒绝，服务器未运行或端口不对（Connection refused）"
    assert reason(TimeoutError("timed out")).startswith("连接超时")
    assert reason(socket.gaierror(-2, "Name or service not known")).startswith("无法解析服务器地址")
    assert reason(ssl.SSLCertVerificationError(1, "certificate verify failed")).startswith("服务器证书验证失败")
    login = reason(smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication failed"))
    assert login == "登录被拒绝，请检查 SSJ_SMTP_USER 和 SSJ_SMTP_PASSWORD（535 5.7.8 Authentication failed）"
    assert "Error" not in reason(refused) + reason(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))


def health(failing_since=None, **values) -> MailHealth:
    base = dict(enabled=True, waiting=3, sent_today=12, failing=3 if failing_since else 0, failing_since=failing_since,
                last_error="无法连接邮件服务器 smtp.example:25：连接超时（timed out）" if failing_since else None, now=NOW)
    return MailHealth(**{**base, **values})


def test_failing_for_an_hour_counts_from_the_oldest_failing_message():
    assert not health(NOW - timedelta(minutes=59)).failing_too_long
    assert health(NOW - timedelta(hours=1)).failing_too_long
    assert not health().failing_too_long, "nothing failing"


def test_the_boards_mail_lines_name_what_waits_what_failed_and_each_bounce():
    lines = health(NOW - timedelta(hours=2), problems={"退信": 1, "无法生成": 0, "投递不明": 2},
                   bounced=[("a@x.cn", "550 5.1.1 User unknown")]).lines(BEIJING)
    assert lines[0] == "- 待发 3 封，今日已发 12 封"
    assert lines[1].startswith("- **发送失败待重试 3 封**，最早一封 11-28 08:00 入队（已超过一小时）；最近原因：无法连接邮件服务器")
    assert "- **退信 1 封**（系统不会自动重发，请核实收件人）" in lines and "- **投递不明 2 封**（系统不会自动重发，请核实收件人）" in lines
    assert not any("无法生成" in line for line in lines), "a state with none is not listed"
    assert lines[-1] == "  - 退信：a@x.cn，服务器答复：550 5.1.1 User unknown"
    off = health(enabled=False).lines(BEIJING)
    assert off[0].startswith("**未发信（--no-mail）")
