"""Language catalogues and formatting, without a server."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir

from tagora.console.i18n import Formatter, negotiate, translations
from tagora.console.rendering import json_script

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "tagora" / "console" / "templates"
OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def template_messages() -> set[str]:
    found = extract_from_dir(TEMPLATES, method_map=[("**.html", "jinja2")], options_map={"**.html": OPTIONS})
    return {msg[0] if isinstance(msg, tuple) else msg for _f, _l, msg, _c, _ctx in found}


def test_every_template_message_has_a_chinese_translation() -> None:
    zh = translations("zh")
    messages = template_messages()
    assert len(messages) > 40
    untranslated = sorted(m for m in messages if zh.gettext(m) == m)
    assert untranslated == []


def test_accept_language_picks_the_best_supported_language() -> None:
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8", "en") == "zh"
    assert negotiate("en-GB,zh;q=0.5", "zh") == "en"
    assert negotiate("fr, de;q=0.5", "zh") == "zh"
    assert negotiate("fr, zh;q=0.1, en;q=0", "en") == "zh"
    assert negotiate("", "en") == "en"


def test_numbers_money_and_dates_follow_the_locale_and_zone() -> None:
    en = Formatter("en", "UTC")
    zh = Formatter("zh", "Asia/Shanghai", currency="CNY")
    assert en.number(1234567) == "1,234,567"
    assert en.money(Decimal("1215")) == "1,215.00"
    assert zh.money("1215.5") == "¥1,215.50"
    moment = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    assert en.date(moment) == "Mar 1, 2026"
    assert zh.date(moment) == "2026年3月2日"  # already the next day in Shanghai
    assert en.money(None) == "–"


def test_json_for_a_script_tag_cannot_close_the_tag() -> None:
    assert "</script>" not in json_script({"name": "</script><script>alert(1)</script>"})
