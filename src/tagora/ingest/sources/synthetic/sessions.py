"""Web/app behaviour events for the synthetic generator.

Every session ends at a time we already know (an order's ``ordered_at``, or a browsing moment) and
runs backwards from there: page_view, optional login and search, product_view (and add_to_cart) per
item, and checkout when the session ends in an order. Events before a login carry no customer key,
only the device's anonymous id, as a real tracker would record them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tagora.ingest.sources.synthetic.catalog import Catalog
from tagora.ingest.sources.synthetic.people import SOURCE_CHANNELS
from tagora.ingest.sources.synthetic.timefmt import iso

PAGE_VIEW, LOGIN, SEARCH, PRODUCT_VIEW, ADD_TO_CART, CHECKOUT = range(6)
EVENT_NAMES = ("page_view", "login", "search", "product_view", "add_to_cart", "checkout")
_LOGIN_PROPS = ('{"method": "sms"}', '{"method": "password"}', '{"method": "wechat"}')
_PAGE_PROPS = ('{"path": "/", "title": "首页"}', '{"path": "/activity", "title": "活动会场"}')


@dataclass
class SessionPlan:
    visitor: np.ndarray  # row in the visitor tables (customer key, anonymous ids)
    end: np.ndarray  # local seconds: the order time, or the last event of a browse
    channel: np.ndarray  # index into SOURCE_CHANNELS (web, app or mini program)
    order_id: list[str]  # "" when the session only browses
    value: np.ndarray  # order value
    item_session: np.ndarray  # items, grouped by session in ascending order
    item_sku: np.ndarray
    item_cart: np.ndarray  # bool: added to the cart
    item_qty: np.ndarray


def positions(group: np.ndarray) -> np.ndarray:
    """0-based position of each row inside its run of equal, sorted group values."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.searchsorted(group, group, side="left")
    return np.arange(len(group)) - starts


def build_events(
    rng: np.random.Generator,
    plan: SessionPlan,
    keys: list[str],
    anon: list[str],
    catalog: Catalog,
) -> tuple[list[list[str]], np.ndarray]:
    """Columns of events.csv after event_id, sorted by time, and the times (local seconds)."""
    n_s = len(plan.end)
    has_order = np.array([bool(o) for o in plan.order_id], dtype=bool)
    n_items = np.bincount(plan.item_session, minlength=n_s)
    first_item = np.searchsorted(plan.item_session, np.arange(n_s))
    login = rng.random(n_s) < 0.25
    search = (rng.random(n_s) < 0.5) & (n_items > 0)
    item_pos = positions(plan.item_session)
    carts = np.flatnonzero(plan.item_cart)
    s_login, s_search, s_order = np.flatnonzero(login), np.flatnonzero(search), np.flatnonzero(has_order)
    # (session, order inside the session, event type, sku, quantity)
    parts: list[tuple[np.ndarray, np.ndarray, int, np.ndarray | int, np.ndarray | int]] = [
        (np.arange(n_s), np.zeros(n_s), PAGE_VIEW, -1, 0),
        (s_login, np.ones(len(s_login)), LOGIN, -1, 0),
        (s_search, np.full(len(s_search), 2), SEARCH, plan.item_sku[first_item[s_search]], 0),
        (plan.item_session, 3 + 2 * item_pos, PRODUCT_VIEW, plan.item_sku, 0),
        (
            plan.item_session[carts],
            4 + 2 * item_pos[carts],
            ADD_TO_CART,
            plan.item_sku[carts],
            plan.item_qty[carts],
        ),
        (s_order, np.full(len(s_order), 1_000_000), CHECKOUT, -1, 0),
    ]
    sess = np.concatenate([p[0] for p in parts]).astype(np.int64)
    seq = np.concatenate([p[1] for p in parts])
    etype = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    sku = np.concatenate([np.broadcast_to(np.asarray(p[3]), len(p[0])) for p in parts]).astype(np.int64)
    qty = np.concatenate([np.broadcast_to(np.asarray(p[4]), len(p[0])) for p in parts]).astype(np.int64)
    order = np.lexsort((seq, sess))
    sess, etype, sku, qty = sess[order], etype[order], sku[order], qty[order]
    rank = positions(sess)
    count = np.bincount(sess, minlength=n_s)[sess]
    per_event = 20.0 + rng.exponential(45.0, n_s)
    duration = count * per_event[sess]
    back = np.ceil(duration * (count - rank - 0.5 * rng.random(len(sess))) / count).astype(np.int64)
    t = plan.end[sess] - np.maximum(back, 1)

    by_time = np.argsort(t, kind="stable")
    sess, etype, sku, qty, t = sess[by_time], etype[by_time], sku[by_time], qty[by_time], t[by_time]
    visitor = plan.visitor[sess]
    channel = plan.channel[sess]
    anon_col = [anon[i] for i in (2 * visitor + (channel != 0)).tolist()]
    hidden = (etype == PAGE_VIEW) & login[sess]  # not logged in yet
    key_col = ["" if h else keys[v] for h, v in zip(hidden.tolist(), visitor.tolist(), strict=True)]
    shown = np.where(etype == SEARCH, -1, sku)
    sku_col = ["" if s < 0 else catalog.sku[s] for s in shown.tolist()]
    props = _properties(rng, etype, sess, sku, qty, plan, catalog)
    columns = [
        key_col,
        anon_col,
        [EVENT_NAMES[e] for e in etype.tolist()],
        iso(t),
        [SOURCE_CHANNELS[c] for c in channel.tolist()],
        sku_col,
        props,
    ]
    return columns, t


def _properties(
    rng: np.random.Generator,
    etype: np.ndarray,
    sess: np.ndarray,
    sku: np.ndarray,
    qty: np.ndarray,
    plan: SessionPlan,
    catalog: Catalog,
) -> list[str]:
    props = np.empty(len(etype), dtype=object)
    m = etype == PAGE_VIEW
    props[m] = [_PAGE_PROPS[i] for i in (rng.random(int(m.sum())) < 0.2).astype(int).tolist()]
    m = etype == LOGIN
    props[m] = [_LOGIN_PROPS[i] for i in rng.integers(0, 3, int(m.sum())).tolist()]
    m = etype == SEARCH
    props[m] = [f'{{"query": "{catalog.leaf[s]}"}}' for s in sku[m].tolist()]
    price = catalog.price
    m = etype == PRODUCT_VIEW
    props[m] = [
        f'{{"price": {price[s]:.2f}, "category": "{catalog.category_path[s]}"}}' for s in sku[m].tolist()
    ]
    m = etype == ADD_TO_CART
    props[m] = [
        f'{{"price": {price[s]:.2f}, "quantity": {q}}}'
        for s, q in zip(sku[m].tolist(), qty[m].tolist(), strict=True)
    ]
    m = etype == CHECKOUT
    n_items = np.bincount(plan.item_session[plan.item_cart], minlength=len(plan.end))
    props[m] = [
        f'{{"order_id": "{plan.order_id[s]}", "value": {plan.value[s]:.2f}, "items": {n_items[s]}}}'
        for s in sess[m].tolist()
    ]
    out: list[str] = props.tolist()
    return out
