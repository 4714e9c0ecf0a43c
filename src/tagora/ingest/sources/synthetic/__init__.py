"""Seeded synthetic data set: generator and loader."""
