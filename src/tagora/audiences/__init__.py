"""Audiences: a Roaring-bitmap index over tag values, segment expressions, counts and portraits."""
