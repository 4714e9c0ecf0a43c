"""Console: the tag catalogue browser, a tag's page (figures, versions, lifecycle), the editor with live
rule checking and a preview, the approval inbox and the value report."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tagora.audiences import facade as audiences
from tagora.console.pages import StoresDep, check_csrf, console_user, error_page, show
from tagora.core.auth import Permission, Principal
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.stores import Stores
from tagora.tags import facade as tags
from tagora.tags import logic
from tagora.tags.schemas import TagDraft, TagEvaluation, TagPublic, TagRevision

router = APIRouter(include_in_schema=False)
STATUSES = ("draft", "pending_approval", "approved", "published", "deprecated", "retired")
TYPES = ("attribute", "statistical", "rule", "model", "manual")
VALUE_TYPES = ("boolean", "enum", "number", "weighted")
REFRESH = ("scheduled", "realtime", "manual")
LIVE = ("published", "deprecated")
IN_REVIEW = ("pending_approval", "approved")  # reject back to draft before editing
DRAFT_FIELDS = set(TagDraft.model_fields)  # a saved version, as a definition to preview
EXAMPLE_RULE = 'lifecycle in ("active", "loyal") and monetary_90d >= 500'


def tag_reader(principal: Annotated[Principal, Depends(console_user)]) -> Principal:
    if not principal.can(Permission.TAGS_READ):
        raise AppError(CoreErrorCode.FORBIDDEN, "you may not see tags", 403)
    return principal


Reader = Annotated[Principal, Depends(tag_reader)]


def segment_users(stores: Stores) -> tags.SegmentUsers:
    return lambda code: audiences.segments_using(stores, code)


def _name_field(principal: Principal) -> str:
    return "name_zh" if principal.locale == "zh" else "name_en"


def _category_tree(stores: Stores) -> list[dict[str, Any]]:
    """Categories in tree order with their depth, for an indented filter."""
    with stores.sessions() as session:
        flat = tags.categories(session)
    children: dict[str | None, list[Any]] = {}
    for c in flat:
        children.setdefault(c.parent, []).append(c)
    out: list[dict[str, Any]] = []

    def walk(parent: str | None, depth: int) -> None:
        for c in children.get(parent, []):
            out.append({"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "depth": depth})
            walk(c.code, depth + 1)

    walk(None, 0)
    return out


def _category_names(tree: list[dict[str, Any]], locale_name: str) -> dict[str, str]:
    return {c["code"]: c[locale_name] for c in tree}


def _browse(stores: Stores, q: str, category: str, status: str) -> list[TagPublic]:
    with stores.sessions() as session:
        found = tags.search(session, q, category or None, include_retired=status == "retired")
    return [t for t in found if not status or t.status.value == status]


@router.get("/tags", response_class=HTMLResponse)
def catalogue(
    request: Request, stores: StoresDep, principal: Reader, q: str = "", category: str = "", status: str = ""
) -> Response:
    try:
        found = _browse(stores, q, category, status)
    except AppError as exc:
        return error_page(request, principal, exc)
    tree = _category_tree(stores)
    return show(
        request, "tags.html", principal, tags=found, q=q, category=category, status=status, categories=tree,
        category_names=_category_names(tree, _name_field(principal)), statuses=STATUSES,
        can_edit=principal.can(Permission.TAGS_EDIT),
    )  # fmt: skip


@router.get("/partials/tags", response_class=HTMLResponse)
def catalogue_results(
    request: Request, stores: StoresDep, principal: Reader, q: str = "", category: str = "", status: str = ""
) -> Response:
    try:
        found = _browse(stores, q, category, status)
    except AppError as exc:
        return show(request, "_tag_results.html", principal, tags=[], error=exc, category_names={})
    names = _category_names(_category_tree(stores), _name_field(principal))
    response = show(request, "_tag_results.html", principal, tags=found, category_names=names)
    params = {k: v for k, v in (("q", q), ("category", category), ("status", status)) if v}
    response.headers["HX-Replace-Url"] = "/tags" + (f"?{urlencode(params)}" if params else "")
    return response


@router.get("/tags/inbox", response_class=HTMLResponse)
def inbox(request: Request, stores: StoresDep, principal: Reader) -> Response:
    with stores.sessions() as session:
        waiting = tags.pending(session)
        said = {t.code: _request_comment(session, t.code) for t in waiting}
    return show(
        request, "tag_inbox.html", principal, pending=waiting, said=said,
        can_approve=principal.can(Permission.TAGS_APPROVE),
    )  # fmt: skip


def _request_comment(session: Session, code: str) -> str:
    """What the requester said when submitting: the comment of the tag's newest submit step."""
    steps = [h for h in tags.lifecycle_history(session, code) if h.action == "tag.submit"]
    return steps[-1].comment if steps else ""


@router.get("/tags/report", response_class=HTMLResponse)
def report(request: Request, stores: StoresDep, principal: Reader) -> Response:
    return show(
        request, "tag_report.html", principal, report=tags.value_report(stores, segment_users(stores))
    )


# ---- editor -------------------------------------------------------------------------------------


def _form_draft(fields: dict[str, str]) -> dict[str, Any]:
    """The editor's fields as a definition; a rule tag's rule text becomes its spec."""
    data: dict[str, Any] = {
        k: fields[k].strip()
        for k in ("code", "name_zh", "name_en", "description", "category", "type", "value_type", "refresh")
    }
    if data["type"] == "rule" and fields["rule"].strip():
        data["spec"] = {"kind": "rule", "rule": fields["rule"].strip()}
    else:
        try:
            data["spec"] = json.loads(fields["spec"] or "{}")
        except json.JSONDecodeError as exc:
            raise AppError(
                CoreErrorCode.INVALID_INPUT,
                f"spec: not JSON ({exc.msg}, line {exc.lineno}, column {exc.colno})",
                422, {"field": "spec", "line": exc.lineno, "column": exc.colno},
            ) from exc  # fmt: skip
        except RecursionError as exc:  # nested deeper than the parser's stack: no spec is that deep
            message = "spec: nested too deeply"
            raise AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": "spec"}) from exc
    return data


EditorForm = Annotated[str, Form()]


def _fields(
    code: EditorForm = "",
    name_zh: EditorForm = "",
    name_en: EditorForm = "",
    description: EditorForm = "",
    category: EditorForm = "",
    type: EditorForm = "rule",
    value_type: EditorForm = "boolean",
    refresh: EditorForm = "scheduled",
    rule: EditorForm = "",
    spec: EditorForm = "",
) -> dict[str, str]:
    return {
        "code": code, "name_zh": name_zh, "name_en": name_en, "description": description,
        "category": category, "type": type, "value_type": value_type, "refresh": refresh, "rule": rule,
        "spec": spec,
    }  # fmt: skip


Fields = Annotated[dict[str, str], Depends(_fields)]


def _editor(
    request: Request, stores: Stores, principal: Principal, fields: dict[str, str], editing: bool
) -> Response:
    return show(
        request, "tag_edit.html", principal, fields=fields, editing=editing,
        categories=_category_tree(stores), types=TYPES, value_types=VALUE_TYPES, refresh_policies=REFRESH,
        can_edit=principal.can(Permission.TAGS_EDIT),
    )  # fmt: skip


@router.get("/tags/new", response_class=HTMLResponse)
def new_tag(request: Request, stores: StoresDep, principal: Reader) -> Response:
    fields = _fields(category="value", rule=EXAMPLE_RULE)
    return _editor(request, stores, principal, fields, editing=False)


def _as_fields(tag: TagPublic) -> dict[str, str]:
    spec = dict(tag.spec)
    rule = spec.get("rule") if spec.get("kind") == "rule" and spec.get("rule") is not None else None
    return _fields(
        code=tag.code, name_zh=tag.name_zh, name_en=tag.name_en, description=tag.description,
        category=tag.category, type=tag.type.value, value_type=tag.value_type.value,
        refresh=tag.refresh.value, rule=rule or "",
        spec="" if rule else json.dumps(spec, ensure_ascii=False, indent=2),
    )  # fmt: skip


@router.get("/tags/{code}/edit", response_class=HTMLResponse)
def edit_tag(request: Request, stores: StoresDep, principal: Reader, code: str) -> Response:
    try:
        with stores.sessions() as session:
            latest = tags.versions(session, code)[-1]
    except AppError as exc:
        return error_page(request, principal, exc)
    return _editor(request, stores, principal, _as_fields(latest), editing=True)


def _check(stores: Stores, fields: dict[str, str]) -> dict[str, Any]:
    """What the live check shows: the rule's first error with its position, else the definition's."""
    code = fields["code"].strip() or None
    if fields["type"] == "rule" and fields["rule"].strip():
        with stores.sessions() as session:
            result = tags.check_rule(session, fields["rule"], code)
        if not result.ok:
            lines = fields["rule"].split("\n")
            line = lines[(result.line or 1) - 1] if 0 < (result.line or 1) <= len(lines) else ""
            return {"rule": result, "line_text": line, "caret": " " * max((result.column or 1) - 1, 0) + "^"}
        reads = result.reads
    else:
        reads = []
    try:
        draft = logic.validate_draft(_form_draft(fields))
        with stores.sessions() as session:
            reads = sorted(set(reads) | logic.check_rules(session, draft))  # also a rule's cases
    except AppError as exc:
        return {"error": exc, "reads": reads}
    return {"ok": True, "reads": reads}


@router.post("/partials/tags/check", response_class=HTMLResponse)
def live_check(request: Request, stores: StoresDep, principal: Reader, fields: Fields) -> Response:
    try:
        context = _check(stores, fields)
    except AppError as exc:
        context = {"error": exc}
    return show(request, "_tag_check.html", principal, **context)


@router.post("/partials/tags/preview", response_class=HTMLResponse)
def preview(request: Request, stores: StoresDep, principal: Reader, fields: Fields) -> Response:
    try:
        draft = logic.validate_draft(_form_draft(fields))
        result = tags.preview_tag(stores, principal, draft)
    except AppError as exc:
        return show(request, "_tag_preview.html", principal, error=exc)
    return show(request, "_tag_preview.html", principal, preview=result, value_type=draft.value_type.value)


@router.post("/partials/tags/{code}/preview", response_class=HTMLResponse)
def preview_version(request: Request, stores: StoresDep, principal: Reader, code: str) -> Response:
    """The newest version of a saved tag, previewed: what an approver sees before saying yes."""
    try:
        with stores.sessions() as session:
            latest = tags.versions(session, code)[-1]
        draft = logic.validate_draft(latest.model_dump(mode="json", include=DRAFT_FIELDS))
        result = tags.preview_tag(stores, principal, draft)
    except AppError as exc:
        return show(request, "_tag_preview.html", principal, error=exc)
    return show(request, "_tag_preview.html", principal, preview=result, value_type=draft.value_type.value)


@router.post("/tags/save")
def save(
    request: Request,
    stores: StoresDep,
    principal: Reader,
    fields: Fields,
    csrf: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    editing: Annotated[str, Form()] = "",
    submit: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        data = _form_draft(fields)
        code = data["code"]
        if editing:
            changes = {k: v for k, v in data.items() if k not in ("code", "type")}
            logic.revise_tag(stores.sessions, principal, code, TagRevision.model_validate(changes), comment)
        else:
            logic.create_tag(stores.sessions, principal, logic.validate_draft(data), comment)
        if submit:
            logic.submit_tag(stores, principal, code, comment)
    except AppError as exc:
        return error_page(request, principal, exc)
    except ValueError as exc:  # pydantic: a revision with a field of the wrong shape
        return error_page(request, principal, AppError(CoreErrorCode.INVALID_INPUT, str(exc), 422))
    return RedirectResponse(f"/tags/{quote(code)}", status_code=303)


# ---- a tag's page and its lifecycle ---------------------------------------------------------------


def _verbs(principal: Principal, latest: TagPublic, live: TagPublic | None) -> list[str]:
    """The lifecycle steps this user may take now (the verbs in ``logic`` check again)."""
    out = []
    for verb, (permission, sources, _target) in logic.TRANSITIONS.items():
        subject = live if verb in ("deprecate", "retire") else latest
        if subject is not None and subject.status in sources and principal.can(permission):
            out.append(verb)
    return out


def _chart(evaluation: TagEvaluation) -> dict[str, Any]:
    d = evaluation.distribution
    return {
        "values": [{"value": v.value, "count": v.count} for v in d.values],
        "bins": [{"low": b.low, "high": b.high, "count": b.count} for b in d.bins],
        "integers": d.integers,
        "runs": [f"#{p.run_id} {p.as_of.isoformat()}" for p in evaluation.history],
        "coverage": [p.customers for p in evaluation.history],
        "means": [p.mean for p in evaluation.history],
        "series": sorted({v for p in evaluation.history for v in p.shares}),
        "shares": [p.shares for p in evaluation.history],
    }


@router.get("/tags/{code}", response_class=HTMLResponse)
def tag_page(request: Request, stores: StoresDep, principal: Reader, code: str) -> Response:
    try:
        with stores.sessions() as session:
            shown = tags.current(session, code)
            all_versions = tags.versions(session, code)
            history = tags.lifecycle_history(session, code)
        evaluation = tags.evaluate_tag(stores, code, segment_users(stores))
    except AppError as exc:
        return error_page(request, principal, exc)
    latest = all_versions[-1]
    live = next((v for v in all_versions if v.status.value in LIVE), None)
    return show(
        request, "tag.html", principal, tag=shown, latest=latest, versions=all_versions,
        history=list(reversed(history)), evaluation=evaluation, chart=_chart(evaluation),
        spec=json.dumps(shown.spec, ensure_ascii=False, indent=2), verbs=_verbs(principal, latest, live),
        category_names=_category_names(_category_tree(stores), _name_field(principal)),
        can_edit=principal.can(Permission.TAGS_EDIT) and latest.status.value not in IN_REVIEW,
    )  # fmt: skip


@router.post("/tags/{code}/transition")
def transition(
    request: Request,
    stores: StoresDep,
    principal: Reader,
    code: str,
    verb: Annotated[str, Form()],
    comment: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    if verb not in logic.TRANSITIONS:
        return error_page(
            request, principal, AppError(CoreErrorCode.INVALID_INPUT, f"unknown step {verb!r}", 422)
        )
    try:
        logic.transition(stores, principal, code, verb, comment.strip())
    except AppError as exc:
        return error_page(request, principal, exc)
    target = "/tags/inbox" if back == "inbox" else f"/tags/{quote(code)}"
    return RedirectResponse(target, status_code=303)
