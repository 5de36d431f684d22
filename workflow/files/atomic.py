"""Every output file is written whole or not at all: a temporary file in the same folder, then a rename.

A full disk, a quota or a process killed halfway leaves the previous file (or none)
and at most a hidden ``.<name>.*.part`` that is removed on the way out — never a
truncated form, a 0-byte exchange file or half a report. The data is synced before
the rename (and the folder after it), so a crash right after does not undo it.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from workflow.errors import CannotComplete

# What a writer sees of a full disk or a folder it may not write: no space, a file over the size limit
# (RLIMIT_FSIZE), a quota, a read-only file system, no permission.
_CANNOT_WRITE = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


_MODE = 0o600  # a new file holds people's data: its owner alone reads it (an existing file keeps its mode)


class FileNotWritten(CannotComplete):
    """An output file the disk refused (full, over a limit, read-only): nothing half-written is left. Exit 1."""

    def __init__(self, path: Path, reason: OSError):
        self.path = path
        super().__init__(f"磁盘空间不足或文件无法写入：{path}（{reason.strerror or reason}）。"
                         "未留下写了一半的文件；腾出空间或改正权限后重新运行即可")


@contextmanager
def atomic_file(path: Path | str, mode: str = "wb", **open_args: Any) -> Iterator[IO]:
    """A handle on a temporary file beside ``path``; it becomes ``path`` only when the block ends normally."""
    path = Path(path)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise _refused(path, exc) from exc
    try:
        with os.fdopen(fd, mode, **open_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _MODE if not path.exists() else path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        cause = _disk_refusal(exc)
        if cause is not None:
            raise FileNotWritten(path, cause) from exc
        raise
    _sync_folder(path.parent)


def write_atomically(path: Path | str, writer: Callable[[IO[bytes]], Any]) -> Path:
    """``writer(handle)`` writes the whole file (``book.save``, ``doc.save`` take a handle); returns ``path``."""
    with atomic_file(path) as handle:
        writer(handle)
    return Path(path)


def write_text_atomically(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    return write_atomically(path, lambda handle: handle.write(text.encode(encoding)))


def _refused(path: Path, exc: OSError) -> Exception:
    return FileNotWritten(path, exc) if exc.errno in _CANNOT_WRITE else exc


def _disk_refusal(exc: BaseException) -> OSError | None:
    """The OS refusal behind ``exc``: an OSError, or what a library made of it — lxml, which openpyxl writes
    worksheets with, says ``SerialisationError: IO_EFBIG`` — anywhere in the chain of causes."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _CANNOT_WRITE:
            return exc
        name = str(exc).strip()
        code = getattr(errno, name[3:], None) if name.startswith("IO_E") else None
        if code in _CANNOT_WRITE:
            return OSError(code, os.strerror(code))
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _sync_folder(folder: Path) -> None:
    """The rename itself on disk (where the OS lets a folder be opened and synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
