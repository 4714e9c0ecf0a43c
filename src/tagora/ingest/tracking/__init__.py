"""Segment-compatible tracking API: write keys, a durable inbox, dead letters and the warehouse loader."""
