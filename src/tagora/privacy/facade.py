"""What other areas may call: masking of personal data and the blind index's digests."""

from tagora.privacy.blind_index import blind_digest, index_key, key_fingerprint
from tagora.privacy.masking import (
    mask_email,
    mask_identifier,
    mask_phone,
    mask_text,
    mask_values,
)

__all__ = [
    "blind_digest",
    "index_key",
    "key_fingerprint",
    "mask_email",
    "mask_identifier",
    "mask_phone",
    "mask_text",
    "mask_values",
]
