"""The seeded synthetic data set behind ``tagora generate``: exact files, determinism and realistic signal."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.logic import import_dataset
from tagora.ingest.sources.synthetic.generate import HEADERS, MEMBER_TIERS, generate_dataset
from tagora.ingest.sources.synthetic.places import CN_CITIES

START, END = date(2024, 11, 1), date(2026, 10, 31)
SHANGHAI = timezone(timedelta(hours=8))
END_TIME = datetime(2026, 10, 31, 23, 59, 59, tzinfo=SHANGHAI)
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")

Rows = dict[str, list[dict[str, str]]]


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int], Rows]:
    folder = tmp_path_factory.mktemp("synthetic")
    counts = generate_dataset(folder, 2000, 7, START, END)
    return folder, counts, {name: read(folder, name) for name in HEADERS}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def purchases_by_order(rows: Rows) -> dict[str, dict[str, str]]:
    orders: dict[str, dict[str, str]] = {}
    for line in rows["order_lines.csv"]:
        if line["kind"] == "purchase":
            orders.setdefault(line["order_id"], line)
    return orders


def net_spend(rows: Rows) -> dict[str, float]:
    spend: dict[str, float] = defaultdict(float)
    for line in rows["order_lines.csv"]:
        sign = 1 if line["kind"] == "purchase" else -1
        spend[line["customer_key"]] += sign * int(line["quantity"]) * float(line["unit_price"])
    return spend


def test_the_same_seed_writes_identical_files(tmp_path: Path) -> None:
    first = generate_dataset(tmp_path / "a", 300, 11, START, END)
    second = generate_dataset(tmp_path / "b", 300, 11, START, END)
    assert first == second
    for name in HEADERS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_different_seed_writes_a_different_data_set(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "a", 300, 1, START, END)
    generate_dataset(tmp_path / "b", 300, 2, START, END)
    for name in ("customers.csv", "order_lines.csv", "events.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


def test_every_file_has_exactly_the_agreed_header(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    folder, _, _ = dataset
    assert sorted(p.name for p in folder.iterdir()) == sorted(HEADERS)
    assert HEADERS["customers.csv"] == (
        "customer_key", "name", "gender", "birthday", "phone", "email", "country", "province", "city",
        "registered_at", "source_channel", "member_tier",
    )  # fmt: skip
    assert HEADERS["products.csv"] == ("sku", "name", "category_path", "brand", "price")
    assert HEADERS["order_lines.csv"] == (
        "order_id", "customer_key", "ordered_at", "channel", "sku", "quantity", "unit_price", "kind",
    )  # fmt: skip
    assert HEADERS["events.csv"] == (
        "event_id", "customer_key", "anonymous_id", "event", "occurred_at", "channel", "sku", "properties",
    )  # fmt: skip
    assert HEADERS["interactions.csv"] == ("customer_key", "kind", "body", "author", "occurred_at")
    for name, header in HEADERS.items():
        with (folder / name).open(encoding="utf-8", newline="") as fh:
            assert tuple(next(csv.reader(fh))) == header, name


def test_the_returned_counts_are_the_rows_in_each_file(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, counts, rows = dataset
    assert counts == {name: len(r) for name, r in rows.items()}
    assert counts["customers.csv"] == 2000
    assert all(counts[name] > 0 for name in HEADERS)


def test_every_order_line_references_an_existing_customer_and_sku(
    dataset: tuple[Path, dict[str, int], Rows],
) -> None:
    _, _, rows = dataset
    customers = {c["customer_key"] for c in rows["customers.csv"]}
    skus = {p["sku"] for p in rows["products.csv"]}
    assert len(customers) == len(rows["customers.csv"])
    assert len(skus) == len(rows["products.csv"])
    for line in rows["order_lines.csv"]:
        assert line["customer_key"] in customers
        assert line["sku"] in skus
        assert int(line["quantity"]) > 0 and float(line["unit_price"]) > 0
        assert line["kind"] in ("purchase", "cancellation")
    for event in rows["events.csv"]:
        assert event["customer_key"] == "" or event["customer_key"] in customers
        assert event["sku"] == "" or event["sku"] in skus
        assert event["anonymous_id"]
    assert all(i["customer_key"] in customers for i in rows["interactions.csv"])


def test_phones_are_e164_and_unique_per_customer(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    phones = [c["phone"] for c in rows["customers.csv"]]
    assert all(E164.match(p) for p in phones), [p for p in phones if not E164.match(p)][:5]
    assert len(set(phones)) == len(phones)
    chinese = [c["phone"] for c in rows["customers.csv"] if c["country"] == "CN"]
    assert all(re.match(r"^\+861[3-9]\d{9}$", p) for p in chinese)
    emails = [c["email"] for c in rows["customers.csv"] if c["email"]]
    assert len(set(emails)) == len(emails)


def test_every_timestamp_carries_the_shanghai_offset(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    stamps = [c["registered_at"] for c in rows["customers.csv"]]
    stamps += [line["ordered_at"] for line in rows["order_lines.csv"]]
    stamps += [e["occurred_at"] for e in rows["events.csv"]]
    stamps += [i["occurred_at"] for i in rows["interactions.csv"]]
    assert all(ISO_WITH_OFFSET.match(s) for s in stamps)
    first, last = datetime(2024, 11, 1, tzinfo=SHANGHAI), END_TIME
    activity = stamps[len(rows["customers.csv"]) :]
    assert all(first <= when(s) <= last for s in activity)
    for customer in rows["customers.csv"]:
        if customer["birthday"]:
            age = (END - date.fromisoformat(customer["birthday"])).days / 365.25
            assert 17 <= age <= 71


def test_orders_come_after_the_customer_registered(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    registered = {c["customer_key"]: when(c["registered_at"]) for c in rows["customers.csv"]}
    assert all(when(o["ordered_at"]) > registered[o["customer_key"]] for o in rows["order_lines.csv"])


def test_most_customers_are_chinese_with_chinese_names_in_real_cities(
    dataset: tuple[Path, dict[str, int], Rows],
) -> None:
    _, _, rows = dataset
    customers = rows["customers.csv"]
    real = {(c.province, c.name) for c in CN_CITIES}
    chinese = [c for c in customers if c["country"] == "CN"]
    assert len(chinese) > 0.9 * len(customers)
    assert all((c["province"], c["city"]) in real for c in chinese)
    han = [c for c in customers if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", c["name"])]
    english = [c for c in customers if re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", c["name"])]
    assert len(han) > 0.85 * len(customers)
    assert 0 < len(english) < 0.15 * len(customers)
    assert len(han) + len(english) == len(customers)
    surnames: dict[str, int] = defaultdict(int)
    for c in han:
        surnames[c["name"][0]] += 1
    assert surnames["王"] > surnames["韩"]  # frequency-weighted surnames
    assert {c["gender"] for c in customers} <= {"female", "male", ""}
    provinces: dict[str, int] = defaultdict(int)
    for c in chinese:
        provinces[c["province"]] += 1
    assert provinces["广东省"] > provinces["宁夏回族自治区"]  # population-weighted


def test_products_sit_in_a_three_level_category_tree(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    paths = {p["category_path"] for p in rows["products.csv"]}
    assert all(len(path.split("/")) == 3 for path in paths)
    assert 6 <= len({p.split("/")[0] for p in paths}) <= 10
    assert len(paths) >= 30
    assert all(p["brand"] and float(p["price"]) > 0 for p in rows["products.csv"])


def test_spend_per_customer_is_long_tailed(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    spend = sorted(net_spend(rows).values(), reverse=True)
    top = spend[: len(rows["customers.csv"]) // 5]
    assert sum(top) > 0.5 * sum(spend)


def test_item_popularity_is_skewed(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    per_sku: dict[str, int] = defaultdict(int)
    for line in rows["order_lines.csv"]:
        per_sku[line["sku"]] += 1
    counts = sorted(per_sku.values(), reverse=True)
    assert sum(counts[: len(rows["products.csv"]) // 10]) > 0.4 * sum(counts)


def test_november_revenue_is_above_the_average_month(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    revenue: dict[tuple[int, int], float] = defaultdict(float)
    for line in rows["order_lines.csv"]:
        if line["kind"] == "purchase":
            t = when(line["ordered_at"])
            revenue[(t.year, t.month)] += int(line["quantity"]) * float(line["unit_price"])
    average = sum(revenue.values()) / len(revenue)
    november = [v for (_, month), v in revenue.items() if month == 11]
    assert sum(november) / len(november) > average
    singles_day = sum(1 for o in purchases_by_order(rows).values() if o["ordered_at"][5:10] == "11-11")
    assert singles_day > 3 * len(purchases_by_order(rows)) / 730


def test_some_customers_stop_buying_long_before_the_end(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    last: dict[str, datetime] = {}
    for order in purchases_by_order(rows).values():
        t = when(order["ordered_at"])
        last[order["customer_key"]] = max(t, last.get(order["customer_key"], t))
    lapsed = [k for k, t in last.items() if END_TIME - t > timedelta(days=180)]
    assert 0.1 * len(last) < len(lapsed) < 0.9 * len(last)


def test_events_precede_most_purchases(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    seen: dict[str, list[datetime]] = defaultdict(list)
    for event in rows["events.csv"]:
        if event["customer_key"]:
            seen[event["customer_key"]].append(when(event["occurred_at"]))
    orders = list(purchases_by_order(rows).values())

    def preceded(order: dict[str, str]) -> bool:
        t = when(order["ordered_at"])
        return any(t - timedelta(hours=2) <= e < t for e in seen[order["customer_key"]])

    digital = [o for o in orders if o["channel"] in ("web", "app", "wechat_mini_program")]
    assert sum(map(preceded, digital)) > 0.85 * len(digital)
    assert sum(map(preceded, orders)) > 0.5 * len(orders)
    checkouts = {
        json.loads(e["properties"])["order_id"] for e in rows["events.csv"] if e["event"] == "checkout"
    }
    assert checkouts <= {o["order_id"] for o in orders}


def test_event_properties_are_json_objects(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    names = {e["event"] for e in rows["events.csv"]}
    assert names == {"page_view", "product_view", "search", "add_to_cart", "checkout", "login"}
    assert all(isinstance(json.loads(e["properties"]), dict) for e in rows["events.csv"])
    ids = [e["event_id"] for e in rows["events.csv"]]
    assert len(set(ids)) == len(ids)


def test_browsing_volume_follows_purchasing(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    events: dict[str, int] = defaultdict(int)
    for e in rows["events.csv"]:
        if e["customer_key"]:
            events[e["customer_key"]] += 1
    orders: dict[str, int] = defaultdict(int)
    for o in purchases_by_order(rows).values():
        orders[o["customer_key"]] += 1
    keys = [c["customer_key"] for c in rows["customers.csv"]]
    frequent = [events[k] for k in keys if orders[k] >= 4]
    never = [events[k] for k in keys if orders[k] == 0]
    assert sum(frequent) / len(frequent) > 3 * sum(never) / len(never)


def test_member_tiers_rise_with_spend(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    spend = net_spend(rows)
    by_tier: dict[str, list[float]] = defaultdict(list)
    for c in rows["customers.csv"]:
        by_tier[c["member_tier"]].append(spend.get(c["customer_key"], 0.0))
    assert set(by_tier) <= set(MEMBER_TIERS)
    medians = [sorted(v)[len(v) // 2] for t in MEMBER_TIERS if (v := by_tier.get(t))]
    assert medians == sorted(medians) and len(medians) >= 3
    assert len(by_tier["normal"]) > len(rows["customers.csv"]) / 2


def test_cancellations_are_few_and_reverse_a_purchase(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    lines = rows["order_lines.csv"]
    bought = {(x["order_id"], x["sku"]): x for x in lines if x["kind"] == "purchase"}
    cancelled = [x for x in lines if x["kind"] == "cancellation"]
    assert 0 < len(cancelled) < 0.08 * len(lines)
    for c in cancelled:
        original = bought[(c["order_id"], c["sku"])]
        assert (c["quantity"], c["unit_price"]) == (original["quantity"], original["unit_price"])
        assert when(c["ordered_at"]) > when(original["ordered_at"])


def test_crm_interactions_cover_a_few_customers(dataset: tuple[Path, dict[str, int], Rows]) -> None:
    _, _, rows = dataset
    interactions = rows["interactions.csv"]
    assert {i["kind"] for i in interactions} <= {"note", "call", "visit", "email", "message", "meeting"}
    people = {i["customer_key"] for i in interactions}
    assert 0 < len(people) < 0.2 * len(rows["customers.csv"])
    assert all(i["body"] and i["author"] for i in interactions)


def test_an_empty_or_backwards_request_is_handled(tmp_path: Path) -> None:
    counts = generate_dataset(tmp_path / "empty", 0, 1, START, END)
    assert counts["customers.csv"] == 0 and counts["order_lines.csv"] == 0
    with pytest.raises(ValueError, match="after"):
        generate_dataset(tmp_path / "x", 10, 1, END, START)


def test_the_cli_writes_the_folder_and_prints_the_counts_as_json(tmp_path: Path) -> None:
    from tagora.cli import app

    out = tmp_path / "demo"
    args = ["generate", "--out", str(out), "--customers", "120", "--seed", "3"]
    result = CliRunner().invoke(app, [*args, "--start", "2025-01-01", "--end", "2025-12-31", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["customers.csv"] == 120
    assert counts == {name: len(read(out, name)) for name in HEADERS}
    bad = CliRunner().invoke(app, [*args, "--start", "2025-12-31", "--end", "2025-01-01"])
    assert bad.exit_code == 2


def test_the_importer_loads_a_generated_folder_without_rejecting_a_row(
    tmp_path: Path, stores: Stores
) -> None:
    counts = generate_dataset(tmp_path / "data", 150, 5, START, END)
    report = import_dataset(stores, CLI_OPERATOR, tmp_path / "data")
    assert report.rejected_by_reason == {}
    assert report.rows_read == sum(counts.values())
    assert report.customers == counts["customers.csv"]
    assert report.events == counts["events.csv"]


def test_chunks_continue_the_keys_and_ids_of_the_previous_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tagora.ingest.sources.synthetic import generate

    monkeypatch.setattr(generate, "CHUNK", 100)
    done: list[tuple[int, int]] = []
    generate_dataset(tmp_path, 250, 9, START, END, progress=lambda n, total: done.append((n, total)))
    assert done == [(100, 250), (200, 250), (250, 250)]
    keys = [c["customer_key"] for c in read(tmp_path, "customers.csv")]
    assert keys == [f"C{i:08d}" for i in range(1, 251)]
    events = [e["event_id"] for e in read(tmp_path, "events.csv")]
    assert events == [f"E{i:011d}" for i in range(1, len(events) + 1)]
    purchases = [x for x in read(tmp_path, "order_lines.csv") if x["kind"] == "purchase"]
    owner: dict[str, str] = {}
    for line in purchases:
        assert owner.setdefault(line["order_id"], line["customer_key"]) == line["customer_key"]
    assert sorted(owner) == [f"O{i:010d}" for i in range(1, len(owner) + 1)]
