"""Consent, masking, encryption, export and erasure."""
