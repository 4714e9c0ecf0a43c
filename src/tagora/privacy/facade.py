"""What other areas may call: masking of personal data and neutralizing export cells."""

from tagora.privacy.masking import mask_email, mask_phone, mask_text, mask_values, neutralize_cell

__all__ = ["mask_email", "mask_phone", "mask_text", "mask_values", "neutralize_cell"]
