"""Pure normalizers for imported cells: text, phones, emails, gender, dates, prices, places.

Each one takes a raw cell (str, number, date...) and returns the stored form, or raises
``PydanticCustomError`` whose type is the reason code shown in the error report.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic_core import PydanticCustomError

from tagora.ingest.files import regions

_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]+)+$")
_GENDERS = {
    "male": "male", "m": "male", "man": "male", "男": "male", "男性": "male", "先生": "male", "1": "male",
    "female": "female", "f": "female", "woman": "female", "女": "female", "女性": "female",
    "女士": "female", "2": "female",
}  # fmt: skip
_UNKNOWN_GENDER = {"未知", "保密", "unknown", "u", "n/a", "-"}
_COUNTRIES = {"中国": "CN", "中华人民共和国": "CN", "china": "CN", "prc": "CN", "chn": "CN"}
_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日",
)  # fmt: skip
_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H:%M:%S.%f", "%H时%M分%S秒", "%H时%M分", "%H点%M分")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_CN_MOBILE = re.compile(
    str(phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern)  # type: ignore[union-attr]
)
_PRICE_NOISE = re.compile(r"[¥￥$€£,\s]|元|RMB|CNY", re.IGNORECASE)


def text(value: Any) -> str | None:
    """Trimmed text with inner runs of whitespace collapsed; empty becomes None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets hand back 13800000001.0 for a number cell
    out = " ".join(str(value).split())
    return out or None


def _chinese_mobile(raw: str, region: str) -> str | None:
    """Fast path for the commonest number, a Chinese mobile (checked against libphonenumber's own pattern).

    Parsing costs ~20 µs a number; a million-row file spends most of its time there otherwise.
    """
    digits = _PHONE_SEPARATORS.sub("", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif region != "CN":
        return None
    return "+86" + digits if _CN_MOBILE.fullmatch(digits) else None


def phone(value: Any, region: str) -> str | None:
    raw = text(value)
    if raw is None:
        return None
    return _chinese_mobile(raw, region) or libphonenumber_e164(raw, region)


def libphonenumber_e164(raw: str, region: str) -> str:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise PydanticCustomError("invalid_phone", "not a phone number: {value}", {"value": raw}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise PydanticCustomError(
            "invalid_phone",
            "not a valid phone number (default region {region}): {value}",
            {"value": raw, "region": region},
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email(value: Any) -> str | None:
    raw = text(value)
    if raw is None:
        return None
    lowered = raw.lower()
    if len(lowered) > 254 or not _EMAIL.match(lowered) or ".." in lowered:
        raise PydanticCustomError("invalid_email", "not a valid email address: {value}", {"value": raw})
    return lowered


def gender(value: Any) -> str | None:
    raw = text(value)
    if raw is None:
        return None
    if raw.lower() in _UNKNOWN_GENDER:
        return None
    found = _GENDERS.get(raw.lower())
    if found is None:
        raise PydanticCustomError(
            "unknown_gender",
            'unknown gender "{value}" (map it with values: in the mapping file)',
            {"value": raw},
        )
    return found


def country(value: Any) -> str | None:
    raw = text(value)
    if raw is None:
        return None
    if raw.lower() in _COUNTRIES or raw in _COUNTRIES:
        return _COUNTRIES.get(raw.lower(), _COUNTRIES.get(raw, raw))
    return raw.upper() if len(raw) in (2, 3) and raw.isascii() and raw.isalpha() else raw


def province(value: Any) -> str | None:
    raw = text(value)
    return None if raw is None else regions.normalize_province(raw)


def city(value: Any) -> str | None:
    raw = text(value)
    return None if raw is None else regions.normalize_city(raw)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _bad_date(raw: str, what: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_date", "not a {what}: {value}", {"value": raw, "what": what})


def _parse_naive(raw: str, fmt: str | None) -> datetime:
    if fmt:
        return datetime.strptime(raw, fmt)
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        pass
    if raw.isdigit() and len(raw) in (10, 13):  # Unix seconds or milliseconds
        seconds = int(raw) / (1000 if len(raw) == 13 else 1)
        return datetime.fromtimestamp(seconds, UTC)
    day, _, clock = raw.replace("T", " ").partition(" ")
    for date_fmt in _DATE_FORMATS:
        try:
            parsed_day = datetime.strptime(day, date_fmt)
        except ValueError:
            continue
        if not clock.strip():
            return parsed_day
        for time_fmt in _TIME_FORMATS:
            try:
                t = datetime.strptime(clock.strip(), time_fmt).time()
            except ValueError:
                continue
            return datetime.combine(parsed_day.date(), t)
    raise ValueError(raw)


def timestamp(value: Any, fmt: str | None, tz: str) -> datetime | None:
    """A UTC-aware datetime; naive values are wall-clock times in ``tz``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        raw = text(value)
        if raw is None:
            return None
        try:
            parsed = _parse_naive(raw, fmt)
        except ValueError as exc:
            raise _bad_date(raw, "date and time" if not fmt else f"date and time in format {fmt}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz))
    return parsed.astimezone(UTC)


def day(value: Any, fmt: str | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if raw is None:
        return None
    try:
        parsed = _parse_naive(raw, fmt)
    except ValueError as exc:
        raise _bad_date(raw, "date" if not fmt else f"date in format {fmt}") from exc
    return parsed.date()


def price(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        raw = text(value)
        if raw is None:
            return None
        try:
            amount = Decimal(_PRICE_NOISE.sub("", raw))
        except InvalidOperation as exc:
            raise PydanticCustomError("invalid_price", "not a price: {value}", {"value": raw}) from exc
    if not amount.is_finite() or amount < 0:
        raise PydanticCustomError("invalid_price", "not a price: {value}", {"value": str(value)})
    return amount.quantize(Decimal("0.0001"))


def category_path(value: Any) -> str | None:
    raw = text(value)
    if raw is None:
        return None
    parts = [p.strip() for p in re.split(r"\s*[/>|＞]\s*", raw) if p.strip()]
    return "/".join(parts) or None
