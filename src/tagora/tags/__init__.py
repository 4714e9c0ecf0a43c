"""Tag catalogue, lifecycle, rule language, computation and weights."""
