"""The identity graph: (type, value) -> profile."""
