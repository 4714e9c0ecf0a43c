"""Masking (脱敏) of personal data for viewers without ``pii:view``. Pure functions."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers


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


# A mainland resident ID number (居民身份证号): region, birth date, sequence, check digit.
_ID_NUMBER = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
    r"(?![0-9])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}")
MAX_TEXT = 20_000  # characters of free text searched; the rest is masked whole
# A text with fewer digits holds no phone number written with its country code (the shortest, Niue's
# +683 4002, has seven) and no national number of a region with mobile numbers of seven digits or more.
MIN_PHONE_DIGITS = 7


def mask_id_number(text: str) -> str:
    """``110101199003071234`` -> ``110101********1234``: the region and the last four are kept."""
    return _ID_NUMBER.sub(lambda m: m.group(0)[:6] + "*" * 8 + m.group(0)[-4:], text)


def mask_identifier(value: str | None) -> str | None:
    """An ID number stored on its own (a passport's as well as a resident's): only the last four shown."""
    if not value:
        return value
    if _ID_NUMBER.fullmatch(value):
        return mask_id_number(value)
    hidden = len(value) - min(4, len(value) // 2)  # a short value keeps at most half of it
    return "*" * hidden + value[hidden:]


def mask_text(text: str | None, region: str = "CN") -> str | None:
    """Free text (a CRM note, an event property) with the personal data found in it masked: resident
    ID numbers, e-mail addresses and phone numbers (found by ``phonenumbers`` for ``region``)."""
    if not text or ("@" not in text and sum(map(str.isdigit, text)) < MIN_PHONE_DIGITS):
        return text  # nothing to find (the matcher costs ~50 µs even then: keys and event names add up)
    rest = ""
    if len(text) > MAX_TEXT:
        text, rest = text[:MAX_TEXT], "*" * (len(text) - MAX_TEXT)
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)) or "", mask_id_number(text))
    pieces, last = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        digits = re.sub(r"[^0-9+]", "", match.raw_string)
        pieces += [text[last : match.start], mask_phone(digits) or ""]
        last = match.end
    return "".join(pieces) + text[last:] + rest


def mask_values(value: Any, region: str = "CN") -> Any:
    """``mask_text`` on every string inside ``value`` (dicts and lists, e.g. event properties), the keys
    of dicts included: an app may key a property by a phone number or an e-mail address."""
    if isinstance(value, str):
        return mask_text(value, region)
    if isinstance(value, dict):
        return {mask_values(k, region): mask_values(v, region) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_values(v, region) for v in value]
    return value
