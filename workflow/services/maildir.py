"""A local Maildir as the office's mailbox (the demo's, ``SSJ_MAILDIR``): the same interface as ``ImapMailbox``.

INBOX is the top Maildir; other folders are Maildir++ subfolders (``.已处理``), created when missing. A move
adds the message to the target folder first and removes the original only then: never lost.
"""

from __future__ import annotations

import mailbox
import re
from pathlib import Path

from workflow.services.imap import MailboxUnavailable, StoredMessage

_KEY = re.compile(r"^(\d+)\.(?:M(\d+))?")


def _age(key: str) -> tuple[int, int, str]:
    """Delivery order from the unique name (``<seconds>.M<microseconds>P<pid>…``)."""
    match = _KEY.match(key)
    return (int(match.group(1)), int(match.group(2) or 0), key) if match else (0, 0, key)


class MaildirMailbox:
    def __init__(self, path: Path, folder: str = "INBOX", create: bool = False):
        """``create``: make the Maildir when missing (the demo); otherwise a missing one is ``MailboxUnavailable``,
        so a mistyped path is not read as an empty mailbox."""
        self.path = Path(path)
        self.folder = folder
        self.create = create
        self.label = f"maildir:{self.path}" + ("" if folder == "INBOX" else f"/{folder}")
        self._root: mailbox.Maildir | None = None
        self._box: mailbox.Maildir | None = None

    def __enter__(self) -> "MaildirMailbox":
        if not self.create and not all((self.path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            raise MailboxUnavailable(f"邮件目录 {self.path} 不存在或不是 Maildir（应含 cur、new、tmp 子目录），请检查 SSJ_MAILDIR")
        try:
            self._root = mailbox.Maildir(self.path, factory=None, create=self.create)
            if self.folder == "INBOX":
                self._box = self._root
            else:
                self._box = self._root.get_folder(self.folder)
        except mailbox.NoSuchMailboxError as exc:
            raise MailboxUnavailable(f"邮件目录 {self.path} 中没有文件夹“{self.folder}”（{exc}）") from exc
        except OSError as exc:
            raise MailboxUnavailable(f"无法打开邮件目录 {self.path}（{exc.strerror or exc}）") from exc
        return self

    def __exit__(self, *exc_info) -> None:
        self._root = self._box = None

    def _open(self) -> mailbox.Maildir:
        if self._box is None:
            raise MailboxUnavailable("邮箱未打开（应在 with 语句中使用）")
        return self._box

    def messages(self) -> list[StoredMessage]:
        box = self._open()
        found = []
        for key in box.keys():
            try:
                with box.get_file(key) as file:
                    file.seek(0, 2)
                    found.append(StoredMessage(key, file.tell()))
            except (KeyError, FileNotFoundError):  # moved away meanwhile
                continue
        return sorted(found, key=lambda m: _age(m.uid))

    def fetch(self, uid: str) -> bytes:
        try:
            return self._open().get_bytes(uid)
        except (KeyError, FileNotFoundError) as exc:
            raise MailboxUnavailable(f"{self.label} 中已没有编号为 {uid} 的邮件（可能已被其他程序移走）") from exc

    def headers(self, uid: str) -> bytes:
        raw = self.fetch(uid)
        match = re.search(rb"\r?\n\r?\n", raw)
        return raw[: match.end()] if match else raw

    def move(self, uid: str, folder: str) -> None:
        box = self._open()
        try:
            raw = box.get_bytes(uid)  # bytes as they are: a Message would be re-generated with other line ends
        except (KeyError, FileNotFoundError) as exc:
            raise MailboxUnavailable(f"{self.label} 中已没有编号为 {uid} 的邮件（可能已被其他程序移走）") from exc
        try:
            self._folder(folder).add(raw)  # written (tmp, then renamed) before the original goes
            box.discard(uid)
        except OSError as exc:
            raise MailboxUnavailable(f"无法把邮件移到文件夹“{folder}”（{exc.strerror or exc}）") from exc

    def append(self, raw: bytes, folder: str | None = None) -> None:
        try:
            (self._folder(folder) if folder else self._open()).add(raw)
        except OSError as exc:
            raise MailboxUnavailable(f"无法保存邮件到 {self.label}（{exc.strerror or exc}）") from exc

    def folders(self) -> list[str]:
        if self._root is None:
            raise MailboxUnavailable("邮箱未打开（应在 with 语句中使用）")
        return ["INBOX", *self._root.list_folders()]

    def _folder(self, name: str) -> mailbox.Maildir:
        if self._root is None:
            raise MailboxUnavailable("邮箱未打开（应在 with 语句中使用）")
        if name == "INBOX":
            return self._root
        try:
            return self._root.get_folder(name)
        except mailbox.NoSuchMailboxError:
            return self._root.add_folder(name)
