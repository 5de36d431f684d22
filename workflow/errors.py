"""Errors a person acts on. Their messages are Chinese and say what to do."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or an action the current state forbids: exit code 2, nothing changed."""

    exit_code = 2

    def __init__(self, message: str, lines: list[str] | None = None):
        super().__init__(message)
        self.lines = lines or [message]


class NotFound(UserError):
    """A campaign, enterprise, department … that does not exist."""


class CannotComplete(Exception):
    """Not the user's input but the machine's state (a full disk …): exit 1, nothing half-done, not a refusal."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.lines = [message]
