"""Free text a person types (reasons, names, purposes): stripped, required where the record
needs it, and bounded, with one message for each way it fails (MissingField, InvalidInput)."""

from __future__ import annotations

from redactor.errors import InvalidInput, MissingField

MAX_TEXT_CHARS = 1024


def text(
    name: str,
    value: str,
    *,
    why: str = "",
    required: bool = True,
    max_chars: int = MAX_TEXT_CHARS,
) -> str:
    """`value` stripped; MissingField (saying `why`) if required and empty, InvalidInput if
    longer than `max_chars`."""
    value = value.strip()
    if required and not value:
        raise MissingField(name, why)
    if len(value) > max_chars:
        raise InvalidInput(f"{name} may hold at most {max_chars} characters, got {len(value)}")
    return value
