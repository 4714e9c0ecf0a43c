"""Seeded synthetic data set: customers, products, order lines, web/app events and CRM interactions.

The files (UTF-8 CSV with a header row; all times ISO 8601 in Asia/Shanghai, ``+08:00``):

- customers.csv, products.csv, order_lines.csv, events.csv, interactions.csv with the columns in
  ``HEADERS``.
- order_lines.csv: ``quantity`` is positive for both kinds; a ``cancellation`` row repeats the
  ``order_id``, ``sku``, ``quantity`` and ``unit_price`` of the purchase line it reverses, with the
  time of the cancellation in ``ordered_at``.
- events.csv: ``customer_key`` is empty for anonymous visitors and for events before a login;
  ``anonymous_id`` is the device id (one for web, one for app and mini program); ``properties`` is
  a JSON object (checkout events carry the ``order_id``).

Customers are simulated in chunks, each with its own child of the seed, so the output depends only on
the arguments and every file is streamed: memory stays flat whatever the customer count.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tagora.ingest.sources.synthetic import DEFAULT_END, DEFAULT_START
from tagora.ingest.sources.synthetic.catalog import Catalog, ProductPicker, make_catalog
from tagora.ingest.sources.synthetic.crm import interaction_rows
from tagora.ingest.sources.synthetic.load import FILES
from tagora.ingest.sources.synthetic.people import (
    DIGITAL,
    N_FAVOURITES,
    SOURCE_CHANNELS,
    SOURCE_WEIGHTS,
    People,
    identity_columns,
    make_people,
)
from tagora.ingest.sources.synthetic.seasons import PROMO, Calendar, make_calendar, sample_days
from tagora.ingest.sources.synthetic.sessions import SessionPlan, build_events, positions
from tagora.ingest.sources.synthetic.timefmt import iso

HEADERS: dict[str, tuple[str, ...]] = {f"{name}.csv": columns for name, columns in FILES.items()}
MEMBER_TIERS = ("normal", "silver", "gold", "diamond")
_TIER_THRESHOLDS = np.array([2_000.0, 8_000.0, 30_000.0])  # yearly-ish net spend in CNY
CHUNK = 5_000
Progress = Callable[[int, int], None]


def product_count(customers: int) -> int:
    return int(min(20_000, max(400, customers // 4)))


def generate_dataset(
    out_dir: Path,
    customers: int,
    seed: int,
    start: date,
    end: date,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write the data set into ``out_dir``; returns rows written per file (headers not counted)."""
    if customers < 0:
        raise ValueError("customers must be zero or more")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    out_dir.mkdir(parents=True, exist_ok=True)
    n_chunks = -(-customers // CHUNK)
    seeds = np.random.SeedSequence(seed).spawn(n_chunks + 1)
    catalog = make_catalog(np.random.default_rng(seeds[0]), product_count(customers))
    cal = make_calendar(start - timedelta(days=3 * 365), end)
    world = _World(catalog, ProductPicker(catalog), cal, cal.day_index(start), seed, end.year)
    counts = dict.fromkeys(HEADERS, 0)
    with ExitStack() as stack:
        writers = {}
        for name, header in HEADERS.items():
            fh = stack.enter_context((out_dir / name).open("w", newline="", encoding="utf-8"))
            writers[name] = csv.writer(fh, lineterminator="\n")
            writers[name].writerow(header)
        price = [f"{p:.2f}" for p in catalog.price.tolist()]
        products = [catalog.sku, catalog.name, catalog.category_path, catalog.brand, price]
        writers["products.csv"].writerows(zip(*products, strict=True))
        counts["products.csv"] = len(catalog)
        for k in range(n_chunks):
            lo, hi = k * CHUNK, min(customers, (k + 1) * CHUNK)
            rows = world.chunk(np.random.default_rng(seeds[k + 1]), lo, hi, counts)
            for name, columns in rows.items():
                writers[name].writerows(zip(*columns, strict=True))
                counts[name] += len(columns[0]) if columns else 0
            if progress is not None:
                progress(hi, customers)
    return counts


class _World:
    """Everything shared by the chunks: catalogue, calendar and period."""

    def __init__(
        self, catalog: Catalog, picker: ProductPicker, cal: Calendar, start_idx: int, seed: int, end_year: int
    ) -> None:
        self.catalog, self.picker, self.cal = catalog, picker, cal
        self.start_idx, self.seed, self.end_year = start_idx, seed, end_year
        self.start_s = int(cal.seconds(start_idx))
        self.end_s = int(cal.seconds(cal.n_days)) - 1
        self.n_orders = 0

    def chunk(
        self, rng: np.random.Generator, lo: int, hi: int, counts: dict[str, int]
    ) -> dict[str, list[Any]]:
        people = make_people(rng, lo, hi, self.cal, self.start_idx)
        owner, t, day, death = self._purchases(rng, people)
        lines, net, orders = self._orders(rng, people, owner, t, day, self.n_orders)
        self.n_orders += len(orders["t"])
        noisy = net * rng.lognormal(0.0, 0.35, len(people))
        member = np.searchsorted(_TIER_THRESHOLDS, noisy, side="right")
        ident = identity_columns(rng, people, self.seed, self.end_year)
        customers = [
            people.key, ident["name"], ident["gender"], ident["birthday"], ident["phone"], ident["email"],
            ident["country"], ident["province"], ident["city"], iso(people.registered),
            [SOURCE_CHANNELS[s] for s in people.source.tolist()], [MEMBER_TIERS[m] for m in member.tolist()],
        ]  # fmt: skip
        events = self._events(rng, people, orders, death, counts["events.csv"])
        fav_top = np.argmax(np.diff(people.cat_cum, prepend=0.0, axis=1), axis=1)
        crm = interaction_rows(rng, people, net, member, fav_top, self.cal, self.start_idx)
        return {
            "customers.csv": customers,
            "order_lines.csv": lines,
            "events.csv": events,
            "interactions.csv": crm,
        }

    def _purchases(
        self, rng: np.random.Generator, people: People
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """BG/NBD-style purchase times (from registration on), truncated at dropout and to the period."""
        cal, n = self.cal, len(people)
        b = np.full(n, cal.n_days)
        a = np.minimum(people.reg_day + 1, b)
        n_regular = rng.poisson(people.lam * (cal.total[b] - cal.total[a]))
        owner = np.repeat(np.arange(n), n_regular)
        curve = (rng.random(len(owner)) < people.weekend[owner]).astype(np.int64)
        empty = cal.cum[curve, b[owner]] <= cal.cum[curve, a[owner]]
        curve = np.where(empty, 1 - curve, curve)
        day = np.empty(len(owner), dtype=np.int64)
        for c in (0, 1):
            rows = curve == c
            day[rows] = sample_days(rng, cal.cum[c], a[owner[rows]], b[owner[rows]])
        # Price-sensitive customers come back for the big sales.
        n_promo = rng.poisson(people.lam * people.sens * (cal.cum[PROMO, b] - cal.cum[PROMO, a]))
        owner_p = np.repeat(np.arange(n), n_promo)
        day_p = sample_days(rng, cal.cum[PROMO], a[owner_p], b[owner_p])
        owner, day = np.concatenate([owner, owner_p]), np.concatenate([day, day_p])
        hour = np.mod(people.hour[owner] + rng.normal(0.0, 1.5, len(owner)), 24.0)
        midnight_rush = cal.singles_day[day] & (rng.random(len(owner)) < 0.35)
        hour = np.where(midnight_rush, rng.random(len(owner)) * 1.5, hour)
        t = cal.seconds(day) + (hour * 3600).astype(np.int64)
        order = np.lexsort((t, owner))
        owner, day, t = owner[order], day[order], t[order]
        rank = positions(owner)
        dropout_after = rng.geometric(people.p_drop)
        death = np.full(n, cal.n_days)
        last = rank == dropout_after[owner] - 1
        death[owner[last]] = day[last] + 1
        keep = (rank < dropout_after[owner]) & (t >= self.start_s)
        return owner[keep], t[keep], day[keep], death

    def _orders(
        self,
        rng: np.random.Generator,
        people: People,
        owner: np.ndarray,
        t: np.ndarray,
        day: np.ndarray,
        base: int,
    ) -> tuple[list[Any], np.ndarray, dict[str, Any]]:
        by_time = np.argsort(t, kind="stable")
        owner, t, day = owner[by_time], t[by_time], day[by_time]
        n_o, catalog = len(owner), self.catalog
        channel = np.where(
            rng.random(n_o) < 0.75,
            people.source[owner],
            rng.choice(len(SOURCE_CHANNELS), n_o, p=SOURCE_WEIGHTS),
        )
        promo = self.cal.promo[day]
        n_lines = 1 + rng.poisson(people.basket[owner] + 0.7 * promo)
        line_order = np.repeat(np.arange(n_o), n_lines)
        line_owner = owner[line_order]
        sku = self.picker.pick(rng, people.cat_cum[line_owner], people.tier_cum[line_owner])
        fav_owner = np.repeat(np.arange(len(people)), N_FAVOURITES)
        favourites = self.picker.pick(rng, people.cat_cum[fav_owner], people.tier_cum[fav_owner])
        again = rng.random(len(sku)) < people.repeat[line_owner]
        pick = rng.integers(0, N_FAVOURITES, int(again.sum()))
        sku[again] = favourites[line_owner[again] * N_FAVOURITES + pick]
        _, first = np.unique(line_order * len(catalog) + sku, return_index=True)
        first.sort()
        line_order, sku = line_order[first], sku[first]
        line_owner, n_l = owner[line_order], len(first)
        price = catalog.price[sku]
        qty = 1 + rng.poisson(np.where(price < 100, 0.45, 0.06))
        sale = rng.choice([0.7, 0.75, 0.8, 0.85, 0.9], n_l)
        discount = np.where(promo[line_order], sale, np.where(rng.random(n_l) < 0.1, 0.95, 1.0))
        unit = np.round(price * discount, 2)
        cancelled = rng.random(n_o) < 0.025 + 0.02 * promo
        cancel_t = t + 600 + rng.exponential(8 * 3600, n_o).astype(np.int64)
        cancelled &= cancel_t <= self.end_s
        c_rows = np.flatnonzero(cancelled[line_order])
        amount = qty * unit
        net = np.bincount(line_owner, amount, minlength=len(people))
        net -= np.bincount(line_owner[c_rows], amount[c_rows], minlength=len(people))

        order_ids = np.array([f"O{base + i + 1:010d}" for i in range(n_o)], dtype=object)
        all_rows = np.concatenate([np.arange(n_l), c_rows])
        when = np.concatenate([t[line_order], cancel_t[line_order[c_rows]]])
        kind = np.concatenate([np.zeros(n_l, dtype=np.int64), np.ones(len(c_rows), dtype=np.int64)])
        o = np.argsort(when, kind="stable")
        all_rows, when, kind = all_rows[o], when[o], kind[o]
        lo_ = line_order[all_rows]
        names = ("purchase", "cancellation")
        lines = [
            order_ids[lo_].tolist(),
            [people.key[i] for i in owner[lo_].tolist()],
            iso(when),
            [SOURCE_CHANNELS[c] for c in channel[lo_].tolist()],
            [catalog.sku[s] for s in sku[all_rows].tolist()],
            qty[all_rows].tolist(),
            [f"{u:.2f}" for u in unit[all_rows].tolist()],
            [names[k] for k in kind.tolist()],
        ]
        value = np.bincount(line_order, amount, minlength=n_o)
        orders = {
            "owner": owner, "t": t, "channel": channel, "ids": order_ids, "value": value,
            "line_order": line_order, "sku": sku, "qty": qty,
        }  # fmt: skip
        return lines, net, orders

    def _events(
        self,
        rng: np.random.Generator,
        people: People,
        orders: dict[str, Any],
        death: np.ndarray,
        first_id: int,
    ) -> list[Any]:
        cal, n = self.cal, len(people)
        # 1. sessions that end in an order (a few digital orders are untracked: blockers, lost cookies).
        tracked = np.flatnonzero((orders["channel"] < DIGITAL) & (rng.random(len(orders["t"])) < 0.93))
        slot = np.full(len(orders["t"]), -1)
        slot[tracked] = np.arange(len(tracked))
        bought = slot[orders["line_order"]] >= 0
        own = orders["owner"][tracked]
        extra = rng.poisson(1.2, len(tracked))
        extra_sess = np.repeat(np.arange(len(tracked)), extra)
        extra_sku = self.picker.pick(rng, people.cat_cum[own[extra_sess]], people.tier_cum[own[extra_sess]])
        # 2. browsing while the customer is alive (a month past the last purchase), volume ~ purchase rate.
        a = np.minimum(np.maximum(people.reg_day + 1, self.start_idx), cal.n_days)
        b = np.maximum(np.minimum(death + 30, cal.n_days), a)
        rate = people.lam * people.browse + 0.002
        n_browse = rng.poisson(rate * (cal.total[b] - cal.total[a]))
        b_owner = np.repeat(np.arange(n), n_browse)
        # 3. anonymous visitors who never sign up.
        n_anon = int(0.3 * n)
        anon_sessions = 1 + rng.poisson(0.5, n_anon)
        v_owner = n + np.repeat(np.arange(n_anon), anon_sessions)
        browse_owner = np.concatenate([b_owner, v_owner])
        ba = np.concatenate([a[b_owner], np.full(len(v_owner), self.start_idx)])
        bb = np.concatenate([b[b_owner], np.full(len(v_owner), cal.n_days)])
        b_day = sample_days(rng, cal.total, ba, bb)
        hour_pref = np.concatenate([people.hour, rng.uniform(0, 24, n_anon)])
        b_hour = np.mod(hour_pref[browse_owner] + rng.normal(0.0, 2.0, len(browse_owner)), 24.0)
        b_t = cal.seconds(b_day) + (b_hour * 3600).astype(np.int64)
        visitor_digital = np.concatenate([people.digital, rng.choice(DIGITAL, n_anon, p=[0.45, 0.35, 0.2])])
        n_b = len(browse_owner)
        b_items = 1 + rng.poisson(1.8, n_b)
        b_sess = np.repeat(np.arange(n_b), b_items)
        # anonymous visitors browse by popularity: borrow a random customer's tastes.
        taste = np.where(browse_owner < n, browse_owner, rng.integers(0, max(n, 1), n_b))[b_sess]
        b_sku = self.picker.pick(rng, people.cat_cum[taste], people.tier_cum[taste])

        n_t = len(tracked)
        item_session = np.concatenate([slot[orders["line_order"][bought]], extra_sess, n_t + b_sess])
        item_sku = np.concatenate([orders["sku"][bought], extra_sku, b_sku])
        item_cart = np.concatenate([np.ones(int(bought.sum()), bool), np.zeros(len(extra_sess), bool),
                                    rng.random(len(b_sess)) < 0.15])  # fmt: skip
        item_qty = np.concatenate([orders["qty"][bought], np.ones(len(extra_sess) + len(b_sess), np.int64)])
        shuffle = np.lexsort((rng.random(len(item_session)), item_session))
        plan = SessionPlan(
            visitor=np.concatenate([own, browse_owner]),
            end=np.concatenate([orders["t"][tracked], b_t]),
            channel=np.concatenate([orders["channel"][tracked], visitor_digital[browse_owner]]),
            order_id=orders["ids"][tracked].tolist() + [""] * n_b,
            value=np.concatenate([orders["value"][tracked], np.zeros(n_b)]),
            item_session=item_session[shuffle],
            item_sku=item_sku[shuffle],
            item_cart=item_cart[shuffle],
            item_qty=item_qty[shuffle],
        )
        keys = people.key + [""] * n_anon
        raw = rng.integers(0, 2**62, size=(2 * (n + n_anon), 2))
        anon = [f"{x:016x}{y:016x}" for x, y in raw.tolist()]
        columns, t = build_events(rng, plan, keys, anon, self.catalog)
        keep = int(np.searchsorted(t, self.start_s))  # sessions of the first day may begin the day before
        columns = [c[keep:] for c in columns]
        ids = [f"E{first_id + i + 1:011d}" for i in range(len(t) - keep)]
        return [ids, *columns]


__all__ = ["CHUNK", "DEFAULT_END", "DEFAULT_START", "HEADERS", "MEMBER_TIERS", "generate_dataset"]
