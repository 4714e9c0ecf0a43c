import pytest

from tagora.privacy.masking import MAX_TEXT, mask_email, mask_phone, mask_text, mask_values, neutralize_cell


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+8613812341234", "+86138****1234"),
        ("+447700900123", "+44770***0123"),
        ("1234", "****"),
        (None, None),
        ("", ""),
    ],
)
def test_phones_keep_only_prefix_and_last_four_digits(raw: str | None, masked: str | None) -> None:
    assert mask_phone(raw) == masked


def test_emails_keep_the_first_letter_and_the_domain() -> None:
    assert mask_email("alice@example.com") == "a***@example.com"
    assert mask_email("not-an-email") == "n***"


@pytest.mark.parametrize("cell", ["=SUM(A1)", "+1", "-2", "@cmd", "\tx"])
def test_formula_like_cells_are_neutralized(cell: str) -> None:
    assert neutralize_cell(cell) == "'" + cell


def test_plain_cells_and_numbers_are_left_alone() -> None:
    assert neutralize_cell("Alice") == "Alice"
    assert neutralize_cell(-5) == -5


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "客户电话 13812341234，邮箱 zhang.wei@example.com，身份证 11010119900307123X",
            "客户电话 138****1234，邮箱 z***@example.com，身份证 110101********123X",
        ),
        ("call +86 138-1234-1234 tomorrow", "call +86138****1234 tomorrow"),
        ("office 021-6123 4567", "office 021****4567"),
        ("order 536365: 12 items, 1,259.50 in total", "order 536365: 12 items, 1,259.50 in total"),
        ("", ""),
        (None, None),
    ],
)
def test_free_text_has_its_phones_emails_and_id_numbers_masked(text: str | None, masked: str | None) -> None:
    assert mask_text(text) == masked


def test_masking_reaches_every_string_inside_event_properties() -> None:
    properties = {"contact": {"phone": "13812341234"}, "tags": ["a@b.cn", 3], "n": 7}
    assert mask_values(properties) == {"contact": {"phone": "138****1234"}, "tags": ["a***@b.cn", 3], "n": 7}


def test_a_huge_note_is_searched_up_to_a_limit_and_the_rest_is_masked_whole() -> None:
    text = "x" * MAX_TEXT + "13812341234"
    assert mask_text(text) == "x" * MAX_TEXT + "*" * 11
