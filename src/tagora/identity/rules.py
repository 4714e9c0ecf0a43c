"""Identity types, their priorities and merge rules; defaults here, overridable by a YAML/JSON file.

A rules file (``TAGORA_IDENTITY_RULES=/path/rules.yaml``)::

    max_shared: 20
    types:
      member_card: {priority: 95, merge: true, unique: profile}
      device_id: {priority: 30, merge: false}

Types named in the file replace the defaults of the same name; the others stay.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

import phonenumbers
import yaml
from pydantic import BaseModel, Field, ValidationError

from tagora.core.errors import AppError

# ``unique``: "profile" — one profile holds at most one value of the type (two different values never
# merge); "source" — at most one value per source system (two keys of one system never merge, keys of
# different systems may); "none" — any number of values.
Uniqueness = Literal["none", "profile", "source"]


class IdentityType(BaseModel, frozen=True):
    priority: int = Field(ge=0, le=10_000)
    merge: bool = True  # a value shared by two profiles joins them
    unique: Uniqueness = "none"


USER_ID = "user_id"  # a profile record's own key (``customer_key``) in the system that created it
MANUAL = "manual_link"  # a link made by staff (``merge_profiles``)
ALIAS = "alias"  # a link made by a Segment ``alias`` call between two known user ids
# Types whose values are personal data: masked for viewers without ``pii:view`` and searched only by
# exact value through the blind index (identity/personal.py).
PERSONAL_TYPES = ("phone", "email", "id_number")

DEFAULT_TYPES: dict[str, IdentityType] = {
    MANUAL: IdentityType(priority=1000),
    ALIAS: IdentityType(priority=900),
    USER_ID: IdentityType(priority=100, unique="source"),
    "wechat_unionid": IdentityType(priority=90, unique="profile"),
    "phone": IdentityType(priority=80),
    "email": IdentityType(priority=70),
    "wechat_openid": IdentityType(priority=60, unique="source"),
    "device_id": IdentityType(priority=30),
    "anonymous_id": IdentityType(priority=10),
}


class IdentityRules(BaseModel, frozen=True):
    types: dict[str, IdentityType] = Field(default_factory=lambda: dict(DEFAULT_TYPES))
    # A value held by more profiles than this identifies nobody (a shop's own phone, a test email):
    # it is kept but links nothing, and each time it is seen a conflict is recorded for review.
    max_shared: int = Field(default=20, ge=2)

    def kind(self, name: str) -> IdentityType:
        try:
            return self.types[name]
        except KeyError:
            raise AppError(
                "unknown_identity_type",
                f"unknown identity type {name!r}; known: {', '.join(sorted(self.types))}",
                422,
                {"field": "type", "value": name},
            ) from None


def load_rules(path: Path | None) -> IdentityRules:
    if path is None:
        return IdentityRules()
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        custom = IdentityRules.model_validate(raw or {})
    except OSError as exc:
        raise AppError("bad_identity_rules", f"cannot read {path}: {exc.strerror}", 400) from exc
    except (ValidationError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise AppError("bad_identity_rules", f"{path}: {exc}", 400, {"file": str(path)}) from exc
    return IdentityRules(types={**DEFAULT_TYPES, **custom.types}, max_shared=custom.max_shared)


_NOT_DIGIT = re.compile(r"[^\d+]")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")


def normalize(kind: str, value: str, region: str = "CN") -> str | None:
    """The stored form of an identity value, so ``+86 138-0013-8000`` and ``13800138000`` are one phone."""
    value = value.strip()
    if not value:
        return None
    if kind == "email":
        return value.lower()
    if kind == "id_number":
        return value.replace(" ", "").upper()[:256]
    if kind == "phone":
        # Fast paths: file imports already store E.164, and parsing costs ~80 µs a number.
        if _E164.fullmatch(value):
            return value
        if region == "CN" and _CN_MOBILE.fullmatch(value):
            return "+86" + value
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return _NOT_DIGIT.sub("", value) or None
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return _NOT_DIGIT.sub("", value) or None
    return value[:256]
