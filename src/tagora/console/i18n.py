"""Console languages: Babel catalogues compiled in memory, locale negotiation and Babel formatting."""

from __future__ import annotations

import datetime as dt
import gettext
import io
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("en", "zh")
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
# Babel needs a territory-neutral but script-specific locale for Chinese number and date patterns.
BABEL_LOCALES = {"en": "en", "zh": "zh_Hans_CN"}


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> gettext.GNUTranslations:
    """The compiled catalogue of ``locale``; the .po file is the source, no build step needed."""
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=BABEL_LOCALES[locale])
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def supported(locale: str | None) -> str | None:
    if not locale:
        return None
    base = locale.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else None


def negotiate(accept_language: str, default: str) -> str:
    """The best supported language of an ``Accept-Language`` header, else ``default``."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = supported(tag)
        if lang and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else default


class Formatter:
    """Numbers, money and dates for one locale and display time zone (used as ``fmt`` in templates)."""

    def __init__(self, locale: str, timezone: str, currency: str | None = None) -> None:
        self.locale = Locale.parse(BABEL_LOCALES[locale])
        self.tz = get_timezone(timezone)
        self.currency = currency

    def number(self, value: int | float | Decimal | None) -> str:
        return "–" if value is None else format_decimal(value, locale=self.locale)

    def money(self, value: int | float | Decimal | str | None) -> str:
        if value is None or value == "":
            return "–"
        if isinstance(value, str):
            value = Decimal(value)
        if self.currency:
            return format_currency(value, self.currency, locale=self.locale)
        return format_decimal(value, format="#,##0.00", locale=self.locale)

    def datetime(self, value: dt.datetime | None, format: str = "medium") -> str:
        return (
            "–"
            if value is None
            else format_datetime(value, format=format, tzinfo=self.tz, locale=self.locale)
        )

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, dt.datetime):
            value = value.astimezone(self.tz)
        return format_date(value, format="medium", locale=self.locale)
