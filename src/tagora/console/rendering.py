"""Jinja2 environments (one per language, autoescaped) and the page renderer."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from tagora.console.i18n import LANGUAGE_NAMES, LOCALES, Formatter, translations

TEMPLATES = Path(__file__).parent / "templates"


def json_script(value: Any) -> Markup:
    """JSON safe to place inside ``<script type="application/json">``: no tag or entity can break out."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # Safe: every character that could end the script element or start markup was escaped above.
    return Markup(text)


@lru_cache(maxsize=len(LOCALES))
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["json_script"] = json_script
    env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    return env


def render(
    request: Request, template: str, locale: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    settings = request.app.state.stores.settings
    fmt = Formatter(locale, settings.display_timezone, getattr(settings, "currency", None))
    html = (
        environment(locale)
        .get_template(template)
        .render(request=request, locale=locale, fmt=fmt, path=request.url.path, **context)
    )
    return HTMLResponse(html, status_code=status_code, headers={"Vary": "Cookie, Accept-Language"})
