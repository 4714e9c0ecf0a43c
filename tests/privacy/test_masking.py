import pytest

from tagora.privacy.blind_index import blind_digest, index_key, key_fingerprint
from tagora.privacy.masking import (
    MAX_TEXT,
    mask_email,
    mask_identifier,
    mask_phone,
    mask_text,
    mask_values,
)


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


def test_property_keys_made_of_personal_data_are_masked_like_values() -> None:
    masked = mask_values({"13812341234": {"a@b.cn": "x"}, "plain": 1})
    assert masked == {"138****1234": {"a***@b.cn": "x"}, "plain": 1}


@pytest.mark.parametrize(
    ("value", "masked"),
    [("11010119900307123X", "110101********123X"), ("E12345678", "*****5678"), ("12", "*2"), ("", "")],
)
def test_an_id_number_on_its_own_shows_at_most_its_last_four(value: str, masked: str) -> None:
    assert mask_identifier(value) == masked


def test_blind_digests_depend_on_the_key_and_the_type_and_never_show_the_value() -> None:
    key, other = index_key("secret-one-0123456789"), index_key("secret-two-0123456789")
    digest = blind_digest(key, "phone", "+8613812341234")
    assert len(digest) == 64 and "13812341234" not in digest
    assert digest == blind_digest(key, "phone", "+8613812341234")
    assert digest != blind_digest(other, "phone", "+8613812341234")
    assert digest != blind_digest(key, "id_number", "+8613812341234")
    assert key_fingerprint(key) != key_fingerprint(other)


@pytest.mark.parametrize(
    ("text", "masked"),
    [("C00123", "C00123"), ("17850", "17850"), ("10086", "10086"), ("Niue +683 4002", "Niue +68*4002")],
)
def test_texts_with_too_few_digits_for_a_phone_are_left_alone_quickly(text: str, masked: str) -> None:
    assert mask_text(text) == masked
