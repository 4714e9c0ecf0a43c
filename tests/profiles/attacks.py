"""Search probes a viewer without ``pii:view`` could run to rebuild a masked phone or e-mail.

Each takes an oracle ``q -> bool`` ("does my target come back for this search?") and returns the
rebuilt value and the number of searches it took, or ``None`` when the searches gave no signal.
"""

from __future__ import annotations

from collections.abc import Callable

Oracle = Callable[[str], bool]
EMAIL_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789._-+"


def rebuild_phone(masked: str, oracle: Oracle) -> tuple[str | None, int]:
    """``+86138****1234``: extend the digits before the stars one at a time (a substring probe each)."""
    head, _, rest = masked.partition("*")
    hidden = rest.count("*") + 1
    tail = rest.lstrip("*")
    known, asked = head.lstrip("+"), 0
    for _ in range(hidden):
        for digit in "0123456789":
            asked += 1
            if oracle(known + digit):
                known += digit
                break
        else:
            return None, asked
    return "+" + known + tail, asked


def rebuild_email(masked: str, oracle: Oracle, max_length: int = 32) -> tuple[str | None, int]:
    """``z***@example.com``: grow the local part a character at a time until the whole address matches."""
    first, _, domain = masked.partition("***@")
    known, asked = first, 0
    while len(known) <= max_length:
        asked += 1
        if oracle(f"{known}@{domain}"):
            return f"{known}@{domain}", asked
        for char in EMAIL_ALPHABET:
            asked += 1
            if oracle(known + char):
                known += char
                break
        else:
            return None, asked
    return None, asked
