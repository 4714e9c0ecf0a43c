"""The column mapping: which source column feeds which target field, with per-field options.

A mapping file (YAML or JSON) is either ``{fields: {...}, timezone: ...}`` or just the fields::

    customer_key: 会员编号
    gender: {column: 性别, values: {男: male, 女: female}}
    registered_at: {column: 注册时间, format: "%Y/%m/%d %H:%M", timezone: Asia/Shanghai}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tagora.core.errors import AppError
from tagora.ingest.errors import IngestErrorCode
from tagora.ingest.files import normalize
from tagora.ingest.files.errors import FileImportErrorCode
from tagora.ingest.files.fact_rows import PROPERTY_PREFIX
from tagora.ingest.files.kinds import FIELDS, REQUIRED
from tagora.ingest.files.rows import RowContext


class FieldMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    format: str | None = None
    timezone: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            normalize.zone(value)
        return value


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: dict[str, FieldMap]
    timezone: str = "Asia/Shanghai"

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        normalize.zone(value)
        return value

    def context(self, region: str) -> RowContext:
        return RowContext(
            region=region,
            timezone=self.timezone,
            formats={f: m.format for f, m in self.fields.items() if m.format},
            zones={f: m.timezone for f, m in self.fields.items() if m.timezone},
        )


def _bad_mapping(path: Path | None, message: str, **data: Any) -> AppError:
    where = f"{path.name}: " if path else ""
    return AppError(FileImportErrorCode.BAD_MAPPING, where + message, 400, {"mapping": str(path), **data})


def load_mapping(path: Path, kind: str) -> Mapping:
    try:
        raw_text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad_mapping(path, f"cannot read the mapping file: {exc}") from exc
    try:
        raw = json.loads(raw_text) if path.suffix.lower() == ".json" else yaml.safe_load(raw_text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise _bad_mapping(path, f"not valid {path.suffix.lstrip('.').upper() or 'YAML'}: {exc}") from exc
    if not isinstance(raw, dict):
        raise _bad_mapping(path, "expected a mapping of target fields to source columns")
    if "fields" not in raw:
        raw = {"fields": raw}
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _bad_mapping(path, f"{where}: {first['msg']}", field=where) from exc
    unknown = [f for f in mapping.fields if not known_field(kind, f)]
    if unknown:
        raise _bad_mapping(
            path,
            f"unknown {kind} field {unknown[0]!r} (fields: {', '.join(FIELDS[kind])})",
            field=unknown[0],
        )
    return mapping


def known_field(kind: str, target: str) -> bool:
    if kind == "events" and target.startswith(PROPERTY_PREFIX):
        return len(target) > len(PROPERTY_PREFIX)
    return target in FIELDS[kind]


def _plain(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def auto_mapping(kind: str, header: Sequence[str]) -> Mapping:
    """Columns named like the target fields (any case, spaces or dashes for underscores) map themselves.

    For events, every other column is an event property (``properties.<column>``).
    """
    by_plain = {_plain(h): h for h in header}
    fields = {f: FieldMap(column=by_plain[f]) for f in FIELDS[kind] if f in by_plain}
    if kind == "events":
        used = {m.column for m in fields.values()}
        fields |= {PROPERTY_PREFIX + h: FieldMap(column=h) for h in header if h not in used and h.strip()}
    return Mapping(fields=fields)


def check_columns(mapping: Mapping, kind: str, header: Sequence[str], source: Path) -> None:
    """Every mapped column exists in the file and every required field is mapped."""
    required = list(REQUIRED[kind])
    if kind == "events" and "anonymous_id" not in mapping.fields:
        required.append("customer_key")  # or anonymous_id: one of the two names the person
    for field in required:
        if field not in mapping.fields:
            raise AppError(
                IngestErrorCode.MISSING_COLUMN,
                f"{source.name}: no column for the {kind} field {field!r} "
                f"(map it, or name a column {field!r})",
                400,
                {"file": str(source), "field": field},
            )
    present = set(header)
    for target, spec in mapping.fields.items():
        if spec.column not in present:
            raise AppError(
                IngestErrorCode.MISSING_COLUMN,
                f"{source.name}: column {spec.column!r} (mapped to {target}) is not in the file",
                400,
                {"file": str(source), "field": target, "column": spec.column},
            )


def projector(mapping: Mapping) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Turns a source row into target fields, applying value maps (exact match, then case-insensitive)."""
    plan = [
        (target, spec.column, {str(k).strip(): v for k, v in spec.values.items()},
         {str(k).strip().lower(): v for k, v in spec.values.items()})
        for target, spec in mapping.fields.items()
    ]  # fmt: skip

    def project(source_row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for target, column, exact, folded in plan:
            value = source_row.get(column)
            if exact and value is not None:
                key = str(value).strip()
                value = exact[key] if key in exact else folded.get(key.lower(), value)
            out[target] = value
        return out

    return project
