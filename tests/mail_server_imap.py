"""A real Dovecot IMAP server on loopback for the tests, started once per session (so once per xdist worker).

Register in tests/conftest.py with ``from tests.mail_server_imap import dovecot, imap_account  # noqa: F401``.

Its throw-away configuration lives in a temp dir (base_dir, state, logs, passwd-file users, maildirs):
plain IMAP (STARTTLS offered) on ``port`` of 127.0.0.1, IMAPS on ``ssl_port``, a self-signed certificate for
127.0.0.1 made with ``openssl`` (``ca_file``: set ``SSL_CERT_FILE`` to it to trust it). The same plain port on
127.0.0.2 advertises neither MOVE nor anything else but IMAP4rev1 LITERAL+ UIDPLUS: the copy-and-expunge path.
Run as root, Dovecot refuses root for its login processes and for mail access, so those run as the package's
``dovenull`` and ``dovecot`` users (the mail is owned by ``dovecot``); as anyone else, everything runs as that
user. Each test takes a fresh user (``imap_account``), so tests never see each other's mail. Without Dovecot the
fixture fails, never skips.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = Path("/usr/sbin/dovecot")
NO_MOVE_HOST = "127.0.0.2"
SPARE_USERS = 500


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Account:
    host: str
    port: int
    ssl_port: int
    user: str
    password: str

    def env(self, security: str = "none", folder: str | None = None, host: str | None = None) -> dict[str, str]:
        """SSJ_IMAP_* for this account; ``security`` picks the port (ssl: the IMAPS one)."""
        env = {"SSJ_IMAP_HOST": host or self.host, "SSJ_IMAP_PORT": str(self.ssl_port if security == "ssl" else self.port),
               "SSJ_IMAP_SECURITY": security, "SSJ_IMAP_USER": self.user, "SSJ_IMAP_PASSWORD": self.password}
        if folder:
            env["SSJ_IMAP_FOLDER"] = folder
        return env


class Dovecot:
    host = "127.0.0.1"

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="ssj-dovecot-"))
        self.root.chmod(0o755)  # the mail and auth processes run as other users when we are root
        self.port, self.ssl_port = _free_port(), _free_port()
        self.users_file = self.root / "users"
        self.ca_file = self.root / "cert.pem"
        self.log = self.root / "dovecot.log"
        self.conf = self.root / "dovecot.conf"
        self.user, self.password = "office", "office-password"
        self._certificate()
        self._configure()
        self.users_file.write_text("")
        self.users_file.chmod(0o644)
        # Dovecot notices a changed passwd-file only when its time stamp moved on: the users the tests take are
        # written before it starts
        self._spare = [(f"u{uuid.uuid4().hex[:12]}", uuid.uuid4().hex) for _ in range(SPARE_USERS)]
        for user, password in [(self.user, self.password), *self._spare]:
            self.add_user(user, password)
        self.start()

    def _certificate(self) -> None:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", str(self.root / "key.pem"), "-out", str(self.ca_file)],
                       check=True, capture_output=True)
        (self.root / "key.pem").chmod(0o600)

    def _configure(self) -> None:
        me = getpass.getuser()
        root = os.geteuid() == 0
        mail = self.root / "mail"
        mail.mkdir()
        if root:
            shutil.chown(mail, "dovecot", "dovecot")
        internal, login, mail_user = ("dovecot", "dovenull", "dovecot") if root else (me, me, me)
        self.conf.write_text(f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1, {NO_MOVE_HOST}
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = 0
first_valid_gid = 0
mail_uid = {mail_user}
mail_gid = {mail_user}
disable_plaintext_auth = no
auth_failure_delay = 0
imap_id_log = *
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{self.ca_file}
ssl_key = <{self.root}/key.pem
mail_location = maildir:{mail}/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.users_file}
}}
userdb {{
  driver = passwd-file
  args = {self.users_file}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1, {NO_MOVE_HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.ssl_port}
    ssl = yes
  }}
}}
local {NO_MOVE_HOST} {{
  protocol imap {{
    imap_capability = IMAP4rev1 LITERAL+ UIDPLUS
  }}
}}
""")

    def add_user(self, user: str, password: str) -> None:
        """Dovecot re-reads the passwd-file when it changes."""
        with self.users_file.open("a") as f:
            f.write(f"{user}:{{PLAIN}}{password}::::::\n")

    def account(self, user: str | None = None, password: str | None = None) -> Account:
        return Account(self.host, self.port, self.ssl_port, user or self.user, password or self.password)

    def new_account(self) -> Account:
        """A user of its own: an empty mailbox no other test touches."""
        if not self._spare:
            pytest.fail(f"more than {SPARE_USERS} IMAP accounts taken in one worker: raise SPARE_USERS")
        return self.account(*self._spare.pop())

    def env(self, security: str = "none", folder: str | None = None) -> dict[str, str]:
        return self.account().env(security, folder)

    def _listening(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def start(self) -> None:
        if not DOVECOT.exists():
            pytest.fail(f"Dovecot is not installed ({DOVECOT} missing): apt-get install dovecot-imapd (see .ci/run)")
        # the daemon keeps the pipes it inherits: its words go to a file, not to a pipe run() would wait on
        with (self.root / "start.out").open("w+") as out:
            done = subprocess.run([str(DOVECOT), "-c", str(self.conf)], stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            if done.returncode != 0:
                out.seek(0)
                pytest.fail(f"Dovecot did not start: {out.read()}")
        deadline = time.monotonic() + 10
        while not self._listening():
            if time.monotonic() > deadline:
                pytest.fail(f"Dovecot is not listening on {self.host}:{self.port}: {self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.02)

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().split()[0])
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # what `dovecot stop` sends, without its waiting in steps of a second
        deadline = time.monotonic() + 10
        while (_alive(pid) or self._listening()) and time.monotonic() < deadline:
            time.sleep(0.02)
        pid_file.unlink(missing_ok=True)

    @contextlib.contextmanager
    def down(self):
        """The server stopped for the block, started again (same ports, same mail) after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot():
    """The worker's Dovecot (host, port, ssl_port, user, password, ca_file, env(), new_account(), stop(), start(),
    down())."""
    server = Dovecot()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def imap_account(dovecot) -> Account:
    """A fresh user on the worker's Dovecot, its mailbox empty."""
    return dovecot.new_account()


class OfficeMailbox:
    """The office's mailbox on the worker's Dovecot, as ``ssj`` is configured to read it (``SSJ_IMAP_*``)."""

    def __init__(self, server, account):
        self.server, self.account = server, account
        self._down = None

    def config(self, folder: str = "INBOX"):
        from workflow.services.imap import ImapConfig

        return ImapConfig.from_env(self.account.env("none", folder))

    def deliver(self, raw: bytes, at=None) -> None:
        """The message arrives (IMAP APPEND, as the mail server's delivery would put it there), at ``at``."""
        from workflow.services.imap import ImapMailbox

        with ImapMailbox(self.config()) as box:
            box.append(raw, received_at=at)

    def folder(self, name: str) -> list[bytes]:
        """The messages now in folder ``name`` (none when it does not exist)."""
        from workflow.services.imap import ImapMailbox, MailboxUnavailable

        try:
            with ImapMailbox(self.config(name)) as box:
                return [box.fetch(m.uid) for m in box.messages()]
        except MailboxUnavailable:
            return []

    def stop(self) -> None:
        """The server down until the test ends."""
        self._down = self.server.down()
        self._down.__enter__()

    def close(self) -> None:
        if self._down is not None:
            self._down.__exit__(None, None, None)


@pytest.fixture
def office(dovecot, imap_account, monkeypatch):
    """An empty office mailbox on a real IMAP server, named by ``SSJ_IMAP_*`` for the ``ssj`` the test runs."""
    for key, value in imap_account.env("none").items():
        monkeypatch.setenv(key, value)
    mailbox = OfficeMailbox(dovecot, imap_account)
    yield mailbox
    mailbox.close()
