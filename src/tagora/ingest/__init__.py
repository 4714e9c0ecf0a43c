"""Importers: read a source, clean it vectorized, load customers/products and the order and event facts."""
