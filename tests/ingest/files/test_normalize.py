"""Pure normalizers and row validation: phones, emails, places, gender, dates, prices (no I/O)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from tagora.ingest.files import normalize, regions
from tagora.ingest.files.rows import CustomerRow, ProductRow, RowContext


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+86 139-0000-0002", "CN", "+8613900000002"),
        ("13700000003", "CN", "+8613700000003"),
        ("010 6552 9988", "CN", "+861065529988"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+44 20 7946 0958", "CN", "+442079460958"),
        (13800138000.0, "CN", "+8613800138000"),
    ],
)
def test_phones_become_e164_using_the_default_region(raw: object, region: str, e164: str) -> None:
    assert normalize.phone(raw, region) == e164


@pytest.mark.parametrize("raw", ["12345", "call me", "+86 123"])
def test_an_invalid_phone_is_rejected_with_its_reason(raw: str) -> None:
    with pytest.raises(PydanticCustomError) as info:
        normalize.phone(raw, "CN")
    assert info.value.type == "invalid_phone"


def test_emails_are_trimmed_lowercased_and_checked() -> None:
    assert normalize.email("  WangFang@Example.COM ") == "wangfang@example.com"
    assert normalize.email("") is None
    for bad in ("bad-email", "a@b", "a..b@example.com", "a b@example.com", "@example.com"):
        with pytest.raises(PydanticCustomError):
            normalize.email(bad)


@pytest.mark.parametrize(
    ("raw", "full"),
    [
        ("广东", "广东省"),
        ("广东省", "广东省"),
        ("Guangdong", "广东省"),
        ("guangdong province", "广东省"),
        ("北京", "北京市"),
        ("Beijing", "北京市"),
        ("内蒙古", "内蒙古自治区"),
        ("Inner Mongolia", "内蒙古自治区"),
        ("广西", "广西壮族自治区"),
        ("新疆", "新疆维吾尔自治区"),
        ("Tibet", "西藏自治区"),
        ("香港", "香港特别行政区"),
        ("Macao", "澳门特别行政区"),
        ("Shaanxi", "陕西省"),
        ("Shanxi", "山西省"),
        ("California", "California"),
    ],
)
def test_province_names_take_one_standard_form(raw: str, full: str) -> None:
    assert regions.normalize_province(raw) == full


def test_the_table_holds_all_34_provincial_level_divisions() -> None:
    full_names = {full for full, _, _ in regions.PROVINCES}
    assert len(full_names) == 34
    assert all(regions.normalize_province(short) == full for full, short, _ in regions.PROVINCES)


@pytest.mark.parametrize(
    ("raw", "city"),
    [
        ("深圳", "深圳市"),
        ("深圳市", "深圳市"),
        ("杭州", "杭州市"),
        ("上海", "上海市"),
        ("延边朝鲜族自治州", "延边朝鲜族自治州"),
        ("浦东新区", "浦东新区"),
        ("Shenzhen", "Shenzhen"),
    ],
)
def test_chinese_city_names_get_the_city_suffix(raw: str, city: str) -> None:
    assert regions.normalize_city(raw) == city


@pytest.mark.parametrize(
    ("raw", "gender"),
    [("男", "male"), ("女", "female"), ("M", "male"), ("f", "female"), ("Female", "female")],
)
def test_gender_synonyms_map_to_male_and_female(raw: str, gender: str) -> None:
    assert normalize.gender(raw) == gender
    assert normalize.gender("保密") is None and normalize.gender("unknown") is None


@pytest.mark.parametrize(
    "raw",
    [
        "2023-03-01 10:00",
        "2023/03/01 10:00:00",
        "2023.03.01 10:00",
        "2023年03月01日 10:00",
        "2023-03-01T10:00:00+08:00",
        "2023-03-01T02:00:00Z",
        "1677636000",
        "1677636000000",
        datetime(2023, 3, 1, 10, 0),
    ],
)
def test_times_in_common_formats_and_zones_become_utc(raw: object) -> None:
    assert normalize.timestamp(raw, None, "Asia/Shanghai") == datetime(2023, 3, 1, 2, 0, tzinfo=UTC)


def test_an_explicit_format_and_zone_are_used_for_ambiguous_dates() -> None:
    parsed = normalize.timestamp("03/01/2023 10:00", "%m/%d/%Y %H:%M", "America/New_York")
    assert parsed == datetime(2023, 3, 1, 15, 0, tzinfo=UTC)
    assert normalize.day("1992年7月8日", None) == date(1992, 7, 8)
    assert normalize.day("08.07.1992", "%d.%m.%Y") == date(1992, 7, 8)


def test_prices_drop_currency_marks_and_thousands_separators() -> None:
    assert normalize.price("¥1,259.50") == Decimal("1259.5000")
    assert normalize.price("399元") == Decimal("399.0000")
    assert normalize.price(12) == Decimal("12.0000")
    for bad in ("free", "-5"):
        with pytest.raises(PydanticCustomError):
            normalize.price(bad)


def test_a_customer_row_reports_every_bad_field_by_name() -> None:
    with pytest.raises(ValidationError) as info:
        CustomerRow.model_validate(
            {"customer_key": " ", "phone": "12345", "email": "nope", "birthday": "someday"},
            context=RowContext(),
        )
    fields = {(e["loc"][0], e["type"]) for e in info.value.errors()}
    assert fields == {
        ("customer_key", "missing_value"),
        ("phone", "invalid_phone"),
        ("email", "invalid_email"),
        ("birthday", "invalid_date"),
    }


def test_a_product_row_normalizes_its_category_path() -> None:
    row = ProductRow.model_validate({"sku": " S1 ", "name": "Dress", "category_path": "服装 > 女装 > 连衣裙"})
    assert (row.sku, row.category_path, row.price) == ("S1", "服装/女装/连衣裙", None)


def test_the_chinese_mobile_fast_path_agrees_with_libphonenumber() -> None:
    rng, seen_fast = random.Random(7), 0
    for _ in range(5000):
        raw = "1" + "".join(rng.choice("0123456789") for _ in range(10))
        fast = normalize._chinese_mobile(raw, "CN")
        try:
            slow: str | None = normalize.libphonenumber_e164(raw, "CN")
        except PydanticCustomError:
            slow = None
        assert fast is None or fast == slow
        seen_fast += fast is not None
    assert seen_fast > 1000
