"""The project's own errors, one root, each carrying what the user should do."""

from __future__ import annotations


class LsActiveError(Exception):
    """Root of every error ls-active raises on purpose."""


class BadRequest(LsActiveError):
    """A request Label Studio (or a user) sent that we cannot act on; answered with a 4xx."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class UnsupportedLabelConfig(BadRequest):
    """The project's labeling interface is not one ls-active can learn."""


class ConfigurationError(LsActiveError):
    """A setting is missing or invalid; the message names the variable to fix."""


class LabelStudioError(LsActiveError):
    """Label Studio answered with an error or could not be reached."""

    def __init__(self, message: str, status: int | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class NotEnoughLabels(LsActiveError):
    """Training was asked for before there was anything to learn from."""


class SimulationError(LsActiveError):
    """A problem with the simulation's input that the user can fix; the message says how."""
