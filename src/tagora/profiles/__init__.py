"""Customers, products, the 360 view and the timeline."""
