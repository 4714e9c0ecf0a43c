"""Masking (脱敏) of personal data for viewers without ``pii:view``. Pure functions."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """``13812341234`` -> ``138****1234``; keeps a leading ``+CC`` and the last four digits."""
    if not phone:
        return phone
    prefix = ""
    digits = phone
    if phone.startswith("+86"):
        prefix, digits = "+86", phone[3:]
    elif phone.startswith("+"):
        prefix, digits = phone[:3], phone[3:]
    if len(digits) <= 4:
        return prefix + "*" * len(digits)
    head = digits[:3] if len(digits) >= 8 else ""
    return prefix + head + "*" * (len(digits) - len(head) - 4) + digits[-4:]


def mask_email(email: str | None) -> str | None:
    """``alice@example.com`` -> ``a***@example.com``."""
    if not email:
        return email
    local, sep, domain = email.partition("@")
    if not sep:
        return local[:1] + "***"
    return f"{local[:1]}***@{domain}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value: object) -> object:
    """Stop spreadsheet formula injection: a text cell starting with = + - @ gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
