"""Vectorised timestamp formatting: local wall-clock seconds to ISO 8601 with the +08:00 offset."""

from __future__ import annotations

import numpy as np

OFFSET = "+08:00"  # Asia/Shanghai has no daylight saving time


def iso(local_seconds: np.ndarray) -> list[str]:
    text = np.datetime_as_string(np.asarray(local_seconds, dtype="datetime64[s]"), unit="s")
    return [s + OFFSET for s in text.tolist()]
