"""The frequency / recency / T / monetary summary the BG/NBD and Gamma-Gamma models read.

Purchases on the same calendar day are one transaction (as in the CDNOW papers). Time runs in units of
``unit_days`` (1 = days, 7 = weeks). ``cutoff`` is the last day observed: later purchases are ignored.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value", "first_purchase", "last_purchase")


def summarize_purchases(
    frame: pd.DataFrame,
    cutoff: date,
    *,
    customer: str = "customer",
    when: str = "ordered_at",
    amount: str = "amount",
    unit_days: float = 1.0,
) -> pd.DataFrame:
    """One row per customer seen up to ``cutoff``, indexed by ``customer``.

    ``monetary_value`` is the mean value of the repeat transactions (0 when there are none): the first
    purchase is left out, as the Gamma-Gamma model expects.
    """
    if unit_days <= 0:
        raise ValueError("unit_days must be positive")
    stamps = pd.to_datetime(frame[when])
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)  # calendar days in UTC
    days = stamps.dt.normalize()
    end = pd.Timestamp(cutoff)
    data = pd.DataFrame(
        {"customer": frame[customer].to_numpy(), "day": days, "amount": frame[amount].astype(float)}
    )
    data = data[data["day"] <= end]
    daily = data.groupby(["customer", "day"], sort=True, as_index=False)["amount"].sum()
    groups = daily.groupby("customer", sort=True)
    first, last = groups["day"].min(), groups["day"].max()
    count, total = groups["day"].size(), groups["amount"].sum()
    first_amount = daily.drop_duplicates("customer", keep="first").set_index("customer")["amount"]
    frequency = (count - 1).astype(np.float64)
    repeat_total = total - first_amount.reindex(total.index)
    out = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).dt.days / unit_days,
            "T": (end - first).dt.days / unit_days,
            "monetary_value": np.where(frequency > 0, repeat_total / frequency.where(frequency > 0, 1), 0.0),
            "first_purchase": first.dt.date,
            "last_purchase": last.dt.date,
        }
    )
    out.index.name = customer
    return out
