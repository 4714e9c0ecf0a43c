"""The request path's check: which events of a call the loader's ``Shaper`` would refuse, and why.

A call is acknowledged once its events are committed, so whether each event is valid has to be known in
the request; how it is stored in the warehouse does not (the loader shapes it later). Shaping an event
costs several times parsing it, so this answers the question without shaping: a call's events of one
type are checked a column at a time (``map`` over the events runs in C, a Python loop per event would
cost as much as the shaping it replaces). Only a column it is unsure of — an unusual time format, a
numeric id, a missing field, an event that is really invalid — sends those events through ``Shaper``
itself, so the answer is always the Shaper's: an event is refused here exactly when the loader could not
shape it, with the same field and reason (``test_checks`` holds it to that).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cached_property
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Annotated, Any, NamedTuple

import msgspec

from tagora.ingest.tracking.messages import MAX_EVENT_BYTES, InvalidEvent, Shaper, encoded_size, loads

_NONE = type(None)
_EMPTY: dict[str, Any] = {}  # the default of an absent object field: never changed
_IDS = ("messageId", "userId", "anonymousId")
_OBJECTS = {
    "track": ("context", "integrations", "properties"),
    "page": ("context", "integrations", "properties"),
    "screen": ("context", "integrations", "properties"),
    "identify": ("context", "integrations", "traits"),
}  # group and alias calls are rare: they always go through the Shaper
_TITLES = {"page": ("name", "category"), "screen": ("name", "category")}


# The layouts SDKs send (Python's isoformat, JavaScript's toISOString, RFC 3339 with or without a zone),
# with every digit written 0 and a zone's sign written "-"; one layout per length, so a time of that length
# in any other layout is left to the Shaper.
_LAYOUTS = {
    len(layout): layout
    for layout in (
        "0000-00-00T00:00:00",
        "0000-00-00T00:00:00Z",
        "0000-00-00T00:00:00.000",
        "0000-00-00T00:00:00.000Z",
        "0000-00-00T00:00:00-00:00",
        "0000-00-00T00:00:00.000000",
        "0000-00-00T00:00:00.000000Z",
        "0000-00-00T00:00:00.000-00:00",
        "0000-00-00T00:00:00.000000-00:00",
    )
}
_AS_LAYOUT = bytes.maketrans(b"0123456789+", b"0000000000-")
_FIRST = itemgetter(0)


def plain_times(values: Sequence[Any]) -> bool:
    """True when every value is None or a time in one of the usual layouts with a year from 1000 to 2999.

    The Shaper reads those the same way pydantic does, and within those years neither the conversion to
    UTC nor the clock-skew correction (by another such time) can leave years 1-9999. The layout of all the
    values is checked at once, on their bytes; ``datetime.fromisoformat`` then checks that each is a date.
    """
    if values.count(None) == len(values):
        return True
    values = [v for v in values if v is not None] if None in values else values
    try:
        lengths = list(map(len, values))
        layouts = "\n".join(map(_LAYOUTS.__getitem__, lengths)).encode()
        text = "\n".join(values).encode("ascii")  # a TypeError unless every value is text
        list(map(datetime.fromisoformat, values))
    except (KeyError, TypeError, UnicodeEncodeError, ValueError):
        return False
    if text.translate(_AS_LAYOUT) != layouts:
        return False
    # The years: every value's first character (one slice of the text when the values are of one length).
    same = lengths.count(lengths[0]) == len(lengths)
    firsts = text[:: lengths[0] + 1] if same else bytes(map(ord, map(_FIRST, values)))
    return not firsts.translate(None, b"12")


def _plain_ids(values: Sequence[Any]) -> bool:
    """Ids that are None or text of 1-128 characters (numbers: the Shaper)."""
    if not set(map(type, values)) <= {str, _NONE}:
        return False
    if "" in values:
        return False
    present = [v for v in values if v is not None] if None in values else values
    return not present or max(map(len, present)) <= 128


def _plain_texts(values: Sequence[Any], required: bool, longest: int) -> bool:
    if not set(map(type, values)) <= ({str} if required else {str, _NONE}):
        return False
    present = [v for v in values if v is not None] if None in values else values
    if required and "" in present:
        return False
    return not present or max(map(len, present)) <= longest


class Checker:
    """Checks the events of one call; ``kind`` is the endpoint's type (None for a batch)."""

    def __init__(
        self, kind: str | None, batch_sent_at: datetime | None, received_at: datetime, ip: str | None
    ) -> None:
        self.kind = kind
        self._shaper_args = (kind, batch_sent_at, received_at, ip)
        # A batch sentAt outside years 1000-2999 could push corrected times out of range: shape those.
        self.sent_at_plain = batch_sent_at is None or 1000 <= batch_sent_at.year <= 2999

    @cached_property
    def shaper(self) -> Shaper:
        """Built only for the events the checks are unsure of (most calls need none)."""
        return Shaper(*self._shaper_args)

    def refusals(self, events: list[Any], sizes: list[int]) -> dict[int, InvalidEvent]:
        """The refused events by index; ``sizes`` are the events' encoded sizes, as the Shaper counts them."""
        refused: dict[int, InvalidEvent] = {}
        by_kind = self._by_kind(events)
        for kind, indexes in by_kind.items():
            whole = len(by_kind) == 1  # the usual call: every event of one type
            group = events if whole else [events[i] for i in indexes]
            if kind is not None and self.plain(kind, group, sizes if whole else [sizes[i] for i in indexes]):
                continue
            for i in indexes:  # one at a time: the plain ones cheaply, the others through the Shaper
                if kind is not None and len(indexes) > 1 and self.plain(kind, [events[i]], [sizes[i]]):
                    continue
                try:
                    self.shaper(events[i])
                except InvalidEvent as exc:
                    refused[i] = exc
        return refused

    def _by_kind(self, events: list[Any]) -> dict[str | None, list[int]]:
        """Event indexes by the type they are shaped as; None for those only the Shaper can judge."""
        everything = list(range(len(events)))
        if set(map(type, events)) != {dict}:
            dicts = [i for i in everything if type(events[i]) is dict]
            groups = self._by_kind([events[i] for i in dicts]) if dicts else {}
            out = {k: [dicts[j] for j in v] for k, v in groups.items()}
            out.setdefault(None, []).extend(i for i in everything if type(events[i]) is not dict)
            return out
        if self.kind is not None:
            return {self.kind if self.kind in _OBJECTS else None: everything}
        declared = list(map(dict.get, events, repeat("type")))
        try:
            kinds = set(declared)
        except TypeError:  # a list or an object as a type
            return {None: everything}
        if len(kinds) == 1:
            kind = declared[0]
            return {kind if kind in _OBJECTS else None: everything}
        by_kind: dict[str | None, list[int]] = {}
        for i, kind in enumerate(declared):
            by_kind.setdefault(kind if kind in _OBJECTS else None, []).append(i)
        return by_kind

    def plain(self, kind: str, events: list[dict[str, Any]], sizes: list[int]) -> bool:
        """True when the Shaper certainly accepts every one of these events of this type."""
        if len(events) == 1:
            return self._plain_one(kind, events[0], sizes[0])
        if max(sizes) > MAX_EVENT_BYTES:
            return False
        usual = _usual_columns(kind, events)
        other: Callable[[str], list[Any]] = lambda name: list(map(dict.get, events, repeat(name)))  # noqa: E731
        if self.kind is not None and not set(map(type, other("type"))) <= {str, _NONE}:
            return False
        users, anonymous = usual["userId"], usual["anonymousId"]
        if not (_plain_ids(usual["messageId"]) and _plain_ids(users) and _plain_ids(anonymous)):
            return False
        if None in users and None in anonymous and (None, None) in zip(users, anonymous, strict=True):
            return False  # an event with neither id
        for name in _OBJECTS[kind]:
            if set(map(type, usual[name])) != {dict}:
                return False
        if kind == "track" and not _plain_texts(usual["event"], True, 256):
            return False
        for name in _TITLES.get(kind, ()):
            if not _plain_texts(other(name), False, 256):
                return False
        stamps = [usual["timestamp"], other("originalTimestamp"), other("sentAt")]
        if not self.sent_at_plain and any(s.count(None) != len(s) for s in stamps):
            return False
        return all(plain_times(s) for s in stamps)

    def _plain_one(self, kind: str, event: dict[str, Any], size: int) -> bool:
        """``plain`` for one event, field by field: a single call is the most common, and setting up the
        columns would cost more than checking its fields."""
        get = event.get
        if size > MAX_EVENT_BYTES or (self.kind is not None and type(get("type")) not in (str, _NONE)):
            return False
        ids = [get(name) for name in _IDS]
        if not all(v is None or (type(v) is str and 0 < len(v) <= 128) for v in ids):
            return False
        if ids[1] is None and ids[2] is None:  # neither userId nor anonymousId
            return False
        if any(type(get(name, _EMPTY)) is not dict for name in _OBJECTS[kind]):
            return False
        name = get("event")
        if kind == "track" and not (type(name) is str and 0 < len(name) <= 256):
            return False
        for title in map(get, _TITLES.get(kind, ())):
            if title is not None and not (type(title) is str and len(title) <= 256):
                return False
        stamps = [s for s in map(get, ("timestamp", "originalTimestamp", "sentAt")) if s is not None]
        return not stamps or (self.sent_at_plain and plain_times(stamps))


# The fields SDKs always send, read from each event in one step (an absent object field reads as empty).
_USUAL = {
    kind: (*_IDS, "timestamp", *objects, *(["event"] if kind == "track" else []))
    for kind, objects in _OBJECTS.items()
}
_READ_USUAL = {kind: itemgetter(*names) for kind, names in _USUAL.items()}
_OBJECT_NAMES = {"context", "integrations", "properties", "traits"}


def _usual_columns(kind: str, events: list[dict[str, Any]]) -> dict[str, Sequence[Any]]:
    names = _USUAL[kind]
    try:
        return dict(zip(names, zip(*map(_READ_USUAL[kind], events), strict=True), strict=True))
    except KeyError:  # an event without one of them: field by field
        return {
            name: list(map(dict.get, events, repeat(name), repeat(_EMPTY if name in _OBJECT_NAMES else None)))
            for name in names
        }


# --- a batch as sent: its events checked from their JSON text, without building them as Python objects ---


class Envelope(msgspec.Struct):
    """A ``/v1/batch`` body: each event kept as its JSON text (``Raw``), the rest of the body skipped."""

    batch: list[msgspec.Raw]
    sentAt: Any = None
    writeKey: Any = None


_ENVELOPE = msgspec.json.Decoder(Envelope)


def envelope(body: bytes) -> Envelope | None:
    """The body as a batch of events, or None when it is not UTF-8 JSON with a list named ``batch`` (or is
    JSON only Python's reader takes): the caller then parses it whole, and names the problem."""
    try:
        body.decode()  # the skipped parts of events are not decoded, so their UTF-8 is checked here
        return _ENVELOPE.decode(body)
    except (UnicodeDecodeError, msgspec.DecodeError, msgspec.ValidationError):
        return None


class _Object(msgspec.Struct, frozen=True):
    """A JSON object whose content this check does not read (it is skipped, not decoded)."""


_ANY_OBJECT = _Object()
_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
_Title = Annotated[str, msgspec.Meta(max_length=256)]


class _Fields(msgspec.Struct):
    """The fields ``Checker.plain`` reads, with its limits, and at least as strict: an event that does not
    decode as this (a number as an id, ``null`` as the context, an unknown type's odd field) is unsure."""

    type: str | None = None
    messageId: _Id | None = None
    userId: _Id | None = None
    anonymousId: _Id | None = None
    event: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None
    name: _Title | None = None
    category: _Title | None = None
    timestamp: str | None = None
    originalTimestamp: str | None = None
    sentAt: str | None = None
    context: _Object = _ANY_OBJECT
    integrations: _Object = _ANY_OBJECT
    properties: _Object = _ANY_OBJECT
    traits: _Object = _ANY_OBJECT


_FIELDS = msgspec.json.Decoder(_Fields)
_FIELD_LISTS = msgspec.json.Decoder(list[_Fields])
# Re-encoding parsed JSON (as the Shaper measures an event) makes no token longer than 4.5 times its text
# (``1e15`` -> ``1000000000000000.0``; whitespace and escapes only shrink): below this many bytes an event
# is certainly within the limit, above it its size is measured.
SURELY_SMALL = MAX_EVENT_BYTES // 5
_TIMES = attrgetter("timestamp", "originalTimestamp", "sentAt")


def _fields(text: msgspec.Raw) -> _Fields | None:
    try:
        return _FIELDS.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


class TextCheck(NamedTuple):
    sure: list[bool]  # per event: the Shaper certainly accepts it
    unnamed: list[int]  # the sure events without a messageId
    joined: bytes  # the events as one JSON array


def sure_of_texts(checker: Checker, texts: Sequence[msgspec.Raw]) -> TextCheck:
    """Which events, each given as its JSON text, the Shaper certainly accepts.

    The judgement of ``Checker.plain``, made on the fields decoded in C (``_Fields``) rather than on
    parsed events: an event it is unsure of is for the caller to parse and check (``Checker.refusals``).
    The events are decoded as one array (one call), and one by one only when one of them does not decode;
    they are judged a column at a time, and one by one only when a column has something unusual.
    """
    joined = b"[" + b",".join(texts) + b"]"
    try:
        fields: list[_Fields | None] = list(_FIELD_LISTS.decode(joined))
    except (msgspec.DecodeError, msgspec.ValidationError):
        fields = list(map(_fields, texts))
    if None not in fields and _all_plain(fields):  # type: ignore[arg-type]
        sure = [True] * len(fields)
    else:
        sure = [f is not None and _plain_fields(f) for f in fields]
    if max(map(len, texts), default=0) > SURELY_SMALL:
        for i, text in enumerate(texts):
            if sure[i] and len(text) > SURELY_SMALL:
                sure[i] = encoded_size(loads(bytes(text))) <= MAX_EVENT_BYTES
    known = fields if all(sure) else [f for f, ok in zip(fields, sure, strict=True) if ok]
    stamps = list(zip(*map(_TIMES, known), strict=True))
    skew_plain = checker.sent_at_plain or all(s.count(None) == len(s) for s in stamps)
    if not (skew_plain and all(map(plain_times, stamps))):  # find which: each event's times alone
        for i, f in enumerate(fields):
            if sure[i] and f is not None:
                times = [t for t in _TIMES(f) if t is not None]
                sure[i] = not times or (checker.sent_at_plain and plain_times(times))
    unnamed = [i for i, f in enumerate(fields) if sure[i] and f is not None and f.messageId is None]
    return TextCheck(sure, unnamed, joined)


def _plain_fields(f: _Fields) -> bool:
    """What ``_Fields`` leaves to check: a type the check knows, an id, a track call's name."""
    return (
        f.type in _OBJECTS
        and (f.userId is not None or f.anonymousId is not None)
        and (f.event is not None or f.type != "track")
    )


_COLUMNS = attrgetter("type", "userId", "anonymousId", "event")


def _all_plain(fields: list[_Fields]) -> bool:
    """``_plain_fields`` of every event, a column at a time (False: judge them one by one)."""
    if not fields:
        return True
    types, users, anonymous, names = zip(*map(_COLUMNS, fields), strict=True)
    kinds = set(types)
    if not kinds <= _OBJECTS.keys():
        return False
    if None in users and None in anonymous and (None, None) in zip(users, anonymous, strict=True):
        return False
    return None not in names or "track" not in kinds
