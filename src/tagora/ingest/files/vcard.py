"""Phone address books (.vcf) as customer rows.

FN (or N) → name, the first valid TEL → phone, the first EMAIL → email, ADR → city, province and
country. The key is derived so that importing the same book again updates the same customers:
``vcard:`` + the E.164 phone, or ``vcard:`` + the lower-cased email when there is no valid phone.
ORG has no customer field and is not imported. A contact is numbered by its place in the file (1-based).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import vobject
from pydantic_core import PydanticCustomError

from tagora.ingest.files import normalize
from tagora.ingest.files.formats import Problem, RawRow, Rows
from tagora.ingest.reading import unreadable

HEADER = ["customer_key", "name", "phone", "email", "city", "province", "country"]
KEY_PREFIX = "vcard:"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _values(card: Any, name: str) -> list[Any]:
    return [line.value for line in card.contents.get(name, [])]


def _name(card: Any) -> str | None:
    for full in _values(card, "fn"):
        if normalize.text(full):
            return normalize.text(full)
    for n in _values(card, "n"):
        family, given = normalize.text(n.family) or "", normalize.text(n.given) or ""
        if _CJK.search(family + given):
            return (family + given) or None  # 张 + 三 → 张三
        return normalize.text(f"{given} {family}")
    return None


def _first_phone(card: Any, region: str) -> tuple[str | None, str | None]:
    """(first valid E.164 phone, first raw phone) so an invalid number can still be reported."""
    raws = [normalize.text(v) for v in _values(card, "tel")]
    raws = [r for r in raws if r]
    for raw in raws:
        try:
            return normalize.phone(raw, region), raws[0]
        except PydanticCustomError:
            continue
    return None, (raws[0] if raws else None)


def _contact(number: int, card: Any, region: str) -> RawRow:
    phone, raw_phone = _first_phone(card, region)
    emails = [e for e in (normalize.text(v) for v in _values(card, "email")) if e]
    values: dict[str, Any] = {"name": _name(card), "phone": phone, "email": emails[0] if emails else None}
    for adr in _values(card, "adr")[:1]:
        values.update(city=adr.city or None, province=adr.region or None, country=adr.country or None)
    if phone:
        values["customer_key"] = KEY_PREFIX + phone
        return RawRow(number, values)
    if emails:
        try:
            values["customer_key"] = KEY_PREFIX + (normalize.email(emails[0]) or "")
        except PydanticCustomError:
            values["customer_key"] = None  # validation reports the bad email
        if raw_phone:
            values["phone"] = raw_phone  # validation reports the bad phone too
        return RawRow(number, values)
    if raw_phone:
        message = f"no valid phone number ({raw_phone}) and no email"
        return RawRow(number, values, Problem("phone", "invalid_phone", message))
    return RawRow(number, values, Problem("phone", "no_phone_or_email", "the contact has no phone or email"))


@contextmanager
def open_vcards(path: Path, region: str) -> Iterator[tuple[list[str], Rows]]:
    if not path.is_file():
        raise unreadable(path, "no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from exc

    def rows() -> Rows:
        number = 0
        try:
            for card in vobject.readComponents(io.StringIO(text), ignoreUnreadable=True):
                if card.name.upper() != "VCARD":
                    continue
                number += 1
                yield _contact(number, card, region)
        except vobject.base.ParseError as exc:
            raise unreadable(path, f"after contact {number}: {exc}") from exc

    yield HEADER, rows()
