import pytest

from tagora.privacy.masking import mask_email, mask_phone, neutralize_cell


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
