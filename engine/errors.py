"""Exceptions the engine raises for problems a user can understand and act on."""

from __future__ import annotations


class StudioError(Exception):
    """Base class: the message is written for the user and shown as is."""


class UserInputError(StudioError, ValueError):
    """The request itself is wrong (empty prompt, unreadable image, bad setting)."""


class ModelNotInstalled(StudioError):
    """A model the request needs is not in the store; `names` says which ones to download."""

    def __init__(self, names: list[str] | tuple[str, ...], message: str | None = None) -> None:
        self.names = tuple(names)
        super().__init__(
            message
            or "Not installed: "
            + ", ".join(self.names)
            + ". Open Models (or run `python main.py models download "
            + " ".join(self.names)
            + "`) to get it."
        )


class CheckpointError(StudioError):
    """A weights file is damaged, incomplete, unsafe or of the wrong model."""


class GenerationCancelled(StudioError):
    """The user cancelled; raised between two model calls."""

    def __init__(self) -> None:
        super().__init__("Generation cancelled.")


#: What every front end says when a text route gets no prompt.
EMPTY_PROMPT_MESSAGE = "Type a prompt first, for example “a red cube”."
