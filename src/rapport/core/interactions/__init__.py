"""The interaction log: every call, letter, e-mail and meeting recorded against a contact."""

from rapport.core.interactions.models import InteractionComment, InteractionLogEntry

__all__ = ["InteractionComment", "InteractionLogEntry"]
