"""Write verbs of the tag catalogue: create, revise and move a tag through its lifecycle.

draft → pending_approval → approved → published → deprecated → retired (reject sends a submitted tag
back to draft). Each verb checks the actor's permission, runs in one transaction and leaves an audit
row with the comment. A published version is immutable: revising it starts a new draft version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tagora.core import audit
from tagora.core.auth import Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.db import transaction
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.tags import catalogue
from tagora.tags.errors import TagErrorCode
from tagora.tags.models import TagDefinition
from tagora.tags.rules import RuleError, compile_rule, references
from tagora.tags.schemas import TagDraft, TagPublic, TagRevision
from tagora.tags.specs import RuleSpec, Status, TagType, TagValueType
from tagora.tags.store import write_values

# verb -> (permission, statuses it starts from, status it leaves)
TRANSITIONS: dict[str, tuple[Permission, tuple[Status, ...], Status]] = {
    "submit": (Permission.TAGS_EDIT, (Status.DRAFT,), Status.PENDING_APPROVAL),
    "approve": (Permission.TAGS_APPROVE, (Status.PENDING_APPROVAL,), Status.APPROVED),
    "reject": (Permission.TAGS_APPROVE, (Status.PENDING_APPROVAL,), Status.DRAFT),
    "publish": (Permission.TAGS_PUBLISH, (Status.APPROVED,), Status.PUBLISHED),
    "deprecate": (Permission.TAGS_PUBLISH, (Status.PUBLISHED,), Status.DEPRECATED),
    "retire": (Permission.TAGS_PUBLISH, (Status.PUBLISHED, Status.DEPRECATED), Status.RETIRED),
}


def allow(actor: Principal, permission: Permission) -> None:
    if not actor.can(permission):
        raise AppError(
            TagErrorCode.NOT_ALLOWED,
            f"role {actor.role.value!r} lacks permission {permission.value!r}",
            403,
            {"permission": permission.value},
        )


def check_rules(session: Session, draft: TagDraft) -> set[str]:
    """Type-check a rule tag against the catalogue; returns the tags it reads."""
    if not isinstance(draft.spec, RuleSpec):
        return set()
    names = catalogue.rule_catalogue(session, exclude=draft.code)
    deps: set[str] = set()
    for index, text in enumerate(draft.spec.texts()):
        try:
            deps |= references(compile_rule(text, names))
        except RuleError as exc:
            where = "spec.rule" if draft.spec.rule is not None else f"spec.cases.{index}.when"
            raise AppError(
                TagErrorCode.INVALID_RULE,
                f"{where}: {exc}",
                422,
                {"field": where, "line": exc.line, "column": exc.column, "message": exc.message},
            ) from exc
    return {d for d in deps if d not in catalogue.PROFILE_FIELDS}


def _store(session: Session, draft: TagDraft, actor: Principal, version: int) -> TagDefinition:
    category = catalogue.category_by_code(session, draft.category)
    tag = TagDefinition(
        code=draft.code,
        version=version,
        name_zh=draft.name_zh,
        name_en=draft.name_en,
        description=draft.description,
        category_id=category.id,
        owner=draft.owner or actor.username,
        type=draft.type.value,
        value_type=draft.value_type.value,
        values=draft.values,
        refresh=draft.refresh.value,
        status=Status.DRAFT.value,
        spec=draft.spec.model_dump(mode="json", exclude_defaults=False),
        created_by=actor.username,
    )
    session.add(tag)
    session.flush()
    return tag


def create_tag(
    sessions: sessionmaker[Session], actor: Principal, draft: TagDraft, comment: str = ""
) -> TagPublic:
    allow(actor, Permission.TAGS_EDIT)
    with transaction(sessions) as session:
        if session.scalar(select(TagDefinition.id).where(TagDefinition.code == draft.code).limit(1)):
            raise AppError(
                TagErrorCode.DUPLICATE_CODE,
                f"a tag with code {draft.code!r} exists; revise it instead",
                409,
                {"field": "code"},
            )
        check_rules(session, draft)
        tag = _store(session, draft, actor, 1)
        audit.record(session, actor.username, "tag.create", "tag", tag.code, version=1, comment=comment)
        return catalogue.present(session, tag)


def as_draft(tag: TagDefinition, session: Session) -> dict[str, Any]:
    public = catalogue.present(session, tag)
    return public.model_dump(
        include={"code", "name_zh", "name_en", "description", "category", "owner", "type", "value_type"}
        | {"refresh", "values", "spec"}
    )


def validate_draft(data: dict[str, Any]) -> TagDraft:
    try:
        return TagDraft.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "definition"
        raise AppError(
            TagErrorCode.INVALID_DEFINITION,
            f"{field}: {first['msg']}",
            422,
            {
                "field": field,
                "errors": [
                    {"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()
                ],
            },
        ) from exc


def revise_tag(
    sessions: sessionmaker[Session], actor: Principal, code: str, changes: TagRevision, comment: str = ""
) -> TagPublic:
    """Edit a draft in place; editing anything past draft starts a new draft version."""
    allow(actor, Permission.TAGS_EDIT)
    with transaction(sessions) as session:
        tag = catalogue.latest(session, code)
        data = as_draft(tag, session) | changes.model_dump(exclude_none=True)
        if changes.spec is not None and changes.values is None:
            data["values"] = []  # let the new spec say which values it produces
        draft = validate_draft(data)
        check_rules(session, draft)
        if tag.status == Status.DRAFT.value:
            for name in ("name_zh", "name_en", "description", "owner", "values"):
                setattr(tag, name, getattr(draft, name))
            tag.category_id = catalogue.category_by_code(session, draft.category).id
            tag.value_type, tag.refresh = draft.value_type.value, draft.refresh.value
            tag.spec = draft.spec.model_dump(mode="json")
            session.flush()
        elif tag.status in (Status.PENDING_APPROVAL.value, Status.APPROVED.value):
            raise AppError(
                TagErrorCode.BAD_TRANSITION,
                f"tag {code!r} v{tag.version} is {tag.status}; reject it back to draft before editing",
                409,
                {"status": tag.status},
            )
        else:
            tag = _store(session, draft, actor, tag.version + 1)
        audit.record(session, actor.username, "tag.revise", "tag", code, version=tag.version, comment=comment)
        return catalogue.present(session, tag)


def _target(session: Session, code: str, verb: str) -> TagDefinition:
    if verb in ("deprecate", "retire"):
        return catalogue.live(session, code)
    return catalogue.latest(session, code)


def transition(stores: Stores, actor: Principal, code: str, verb: str, comment: str = "") -> TagPublic:
    """One lifecycle step; once committed, caches built from the catalogue (the segment builder's list of
    tags, the audience index) look again — whoever called: API, console, CLI or a job."""
    done = _transition(stores.sessions, actor, code, verb, comment)
    stores.touch()
    return done


def _transition(
    sessions: sessionmaker[Session], actor: Principal, code: str, verb: str, comment: str = ""
) -> TagPublic:
    permission, sources, target = TRANSITIONS[verb]
    allow(actor, permission)
    if verb == "reject" and not comment.strip():
        raise AppError(
            CoreErrorCode.INVALID_INPUT, "say why in a comment when rejecting", 422, {"field": "comment"}
        )
    with transaction(sessions) as session:
        tag = _target(session, code, verb)
        if tag.status not in sources:
            allowed = " or ".join(s.value for s in sources)
            raise AppError(
                TagErrorCode.BAD_TRANSITION,
                f"cannot {verb} tag {code!r} v{tag.version}: it is {tag.status}, not {allowed}",
                409,
                {"status": tag.status, "verb": verb},
            )
        before = tag.status
        if verb == "publish":
            _before_publish(session, tag)
        if verb == "retire":
            _refuse_if_used(session, code)
        tag.status = target.value
        session.flush()
        audit.record(
            session, actor.username, f"tag.{verb}", "tag", code,
            version=tag.version, comment=comment, before=before, after=target.value,
        )  # fmt: skip
        return catalogue.present(session, tag)


def _before_publish(session: Session, tag: TagDefinition) -> None:
    """Rule dependencies must be live; the version this one replaces is retired (its history stays)."""
    draft = validate_draft(as_draft(tag, session))
    for dep in sorted(check_rules(session, draft)):
        catalogue.live(session, dep)
    for old in session.scalars(
        select(TagDefinition).where(TagDefinition.code == tag.code, TagDefinition.status.in_(catalogue.LIVE))
    ):
        old.status = Status.RETIRED.value
    tag.published_at = utcnow()


def _refuse_if_used(session: Session, code: str) -> None:
    users = []
    for other in catalogue.live_tags(session):
        if other.code != code and other.spec.get("kind") == "rule":
            draft = validate_draft(as_draft(other, session))
            if code in check_rules(session, draft):
                users.append(other.code)
    if users:
        raise AppError(
            TagErrorCode.IN_USE,
            f"tag {code!r} is read by live rule tags: {', '.join(sorted(users))}; retire them first",
            409,
            {"used_by": sorted(users)},
        )


def submit_tag(stores: Stores, actor: Principal, code: str, comment: str = "") -> TagPublic:
    return transition(stores, actor, code, "submit", comment)


def approve_tag(stores: Stores, actor: Principal, code: str, comment: str = "") -> TagPublic:
    return transition(stores, actor, code, "approve", comment)


def reject_tag(stores: Stores, actor: Principal, code: str, comment: str = "") -> TagPublic:
    return transition(stores, actor, code, "reject", comment)


def publish_tag(stores: Stores, actor: Principal, code: str, comment: str = "") -> TagPublic:
    return transition(stores, actor, code, "publish", comment)


def deprecate_tag(stores: Stores, actor: Principal, code: str, comment: str = "") -> TagPublic:
    return transition(stores, actor, code, "deprecate", comment)


def retire_tag(stores: Stores, actor: Principal, code: str, comment: str = "") -> TagPublic:
    return transition(stores, actor, code, "retire", comment)


def install_definitions(
    sessions: sessionmaker[Session], actor: Principal, drafts: list[TagDraft], source: str
) -> list[str]:
    """Publish ready-made definitions (the built-in library) whose code is not taken yet; returns codes added.

    The library is reviewed with the code that ships it, so installing it is one audited approval by
    someone who may approve and publish.
    """
    allow(actor, Permission.TAGS_APPROVE)
    allow(actor, Permission.TAGS_PUBLISH)
    added: list[str] = []
    with transaction(sessions) as session:
        taken = set(session.scalars(select(TagDefinition.code)))
        for draft in _dependency_order([d for d in drafts if d.code not in taken]):
            check_rules(session, draft)
            tag = _store(session, draft, actor, 1)
            tag.status, tag.published_at = Status.PUBLISHED.value, utcnow()
            session.flush()
            added.append(draft.code)
        audit.record(
            session, actor.username, "tag.install", "tag", source, added=added, comment=f"installed {source}"
        )
    return added


def _dependency_order(drafts: list[TagDraft]) -> list[TagDraft]:
    """Rule tags after the tags their rules name, so each is checked against a catalogue that has them."""
    by_code = {d.code: d for d in drafts}
    done: list[TagDraft] = []
    seen: set[str] = set()

    def visit(draft: TagDraft, path: tuple[str, ...]) -> None:
        if draft.code in seen:
            return
        if draft.code in path:
            raise AppError(TagErrorCode.CYCLE, f"tags depend on each other: {' -> '.join(path)}", 422)
        if isinstance(draft.spec, RuleSpec):
            from tagora.tags.rules import parse

            for text in draft.spec.texts():
                for name in sorted(references(parse(text))):
                    if name in by_code:
                        visit(by_code[name], (*path, draft.code))
        seen.add(draft.code)
        done.append(draft)

    for draft in drafts:
        visit(draft, ())
    return done


def assign_tag(
    stores: Stores, actor: Principal, code: str, values: Mapping[int, object], comment: str = ""
) -> int:
    """Staff put a manual tag on customers (uid -> value); returns how many. Who and when are kept."""
    allow(actor, Permission.TAGS_ASSIGN)
    with transaction(stores.sessions) as session:
        tag = catalogue.live(session, code)
        if tag.type != TagType.MANUAL.value:
            raise AppError(
                TagErrorCode.NOT_MANUAL,
                f"tag {code!r} is {tag.type}; only manual tags are put on by hand",
                409,
            )
        rows = [_manual_row(tag, uid, value) for uid, value in values.items()]
        audit.record(session, actor.username, "tag.assign", "tag", code, customers=len(rows), comment=comment)
    if rows:
        write_values(stores.warehouse, code, rows, f"manual:{actor.username}")
        stores.touch()
    return len(rows)


def assign_by_key(
    stores: Stores, actor: Principal, code: str, rows: list[tuple[str, str]], comment: str = ""
) -> int:
    """A manual tag put on customers named by key (``(customer key, value)`` rows, e.g. from a file).

    All or nothing: unknown customers or bad values are reported with their row number (from 1) and no
    row is written. A merged customer's value goes to the person it belongs to now.
    """
    if not rows:
        raise AppError(TagErrorCode.BAD_VALUE, "no rows to assign", 422, {"field": "rows"})
    with stores.sessions() as session:
        people = profiles.key_uids(session, sorted({key for key, _ in rows}))
    unknown = [
        f"row {n}: unknown customer {key!r}" for n, (key, _) in enumerate(rows, 1) if key not in people
    ]
    if unknown:
        more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
        raise AppError(
            TagErrorCode.BAD_VALUE,
            "; ".join(unknown[:5]) + more,
            422,
            {"field": "customer", "rows": len(unknown)},
        )
    with stores.sessions() as session:
        tag = catalogue.live(session, code)
        for n, (key, value) in enumerate(rows, 1):
            _manual_row(tag, 0, value, f"row {n} ({key})")  # names the row before anything is written
    values = {people[key][0]: value for key, value in rows}  # the last row for a person wins
    return assign_tag(stores, actor, code, values, comment)


def _manual_row(
    tag: TagDefinition, uid: int, value: object, where: str = ""
) -> tuple[int, str | None, float | None]:
    kind = TagValueType(tag.value_type)
    text = str(value).strip()
    if kind is TagValueType.NUMBER:
        try:
            return uid, None, float(text)
        except ValueError:
            pass
    elif kind is TagValueType.BOOLEAN and text.lower() in ("true", "false"):
        return uid, text.lower(), None
    elif kind is TagValueType.ENUM and (not tag.values or text in tag.values):
        return uid, text, None
    choices = f" (one of: {', '.join(tag.values)})" if tag.values else ""
    raise AppError(
        TagErrorCode.BAD_VALUE,
        f"{where or f'customer {uid}'}: {value!r} is not a {kind.value} value of {tag.code!r}{choices}",
        422,
        {"uid": uid, "value": str(value)},
    )
