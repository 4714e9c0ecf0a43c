"""Shopping calendar for the synthetic generator: daily purchase intensity with Chinese retail seasons.

Peaks: 11.11 (Singles' Day, with its pre-sale), 618 (JD's mid-year sale), 12.12 and December; dip:
the week around Chinese New Year, when couriers stop. Purchases are drawn day by day from these
intensities by inverse-CDF sampling, so each customer's window is a slice of one cumulative array.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

# Chinese New Year (Spring Festival) dates.
CHINESE_NEW_YEAR = {
    2018: date(2018, 2, 16), 2019: date(2019, 2, 5), 2020: date(2020, 1, 25), 2021: date(2021, 2, 12),
    2022: date(2022, 2, 1), 2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
    2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11),
}  # fmt: skip

EPOCH = date(1970, 1, 1)
DAY = 86_400

WEEKDAY, WEEKEND, PROMO = 0, 1, 2


@dataclass(frozen=True)
class Calendar:
    first_day: date
    n_days: int
    cum: np.ndarray  # (3, n_days + 1) cumulative intensity: weekdays only, weekends only, promotions
    total: np.ndarray  # (n_days + 1,) cumulative intensity of all days (weekday + weekend)
    promo: np.ndarray  # (n_days,) bool: a sale is on (discounts, bigger baskets)
    singles_day: np.ndarray  # (n_days,) bool: November 11th (midnight rush)

    def day_index(self, day: date) -> int:
        return (day - self.first_day).days

    def seconds(self, day_index: np.ndarray | int) -> np.ndarray:
        """Local wall-clock seconds since 1970 at midnight of each day index."""
        return (np.asarray(day_index, dtype=np.int64) + (self.first_day - EPOCH).days) * DAY


def _base_factor(day: date) -> float:
    f = 1.15 if day.weekday() >= 5 else 1.0
    m, d = day.month, day.day
    if m == 11 and d <= 10:
        f *= 1.3  # 11.11 pre-sale
    elif m == 11 and d == 11:
        f *= 5.0
    elif m == 11 and d <= 13:
        f *= 1.3
    elif m == 6 and d < 18:
        f *= 1.2
    elif m == 6 and d == 18:
        f *= 3.5
    elif m == 12 and d == 12:
        f *= 2.0
    elif m == 12:
        f *= 1.25
    cny = CHINESE_NEW_YEAR.get(day.year)
    if cny is None and m <= 2:
        cny = date(day.year, 2, 1)
    if cny is not None:
        offset = (day - cny).days
        if -7 <= offset <= 7:
            f *= 0.45
        elif -21 <= offset < -7:
            f *= 1.15  # new-year shopping
    return f


def _promo_weight(day: date) -> float:
    """Extra intensity for price-sensitive customers (about 100 'days' worth per year)."""
    m, d = day.month, day.day
    if m == 11 and d == 11:
        return 40.0
    if m == 11 and d < 11:
        return 2.5
    if m == 6 and d == 18:
        return 20.0
    if m == 6 and d < 18:
        return 0.8
    if m == 12 and d == 12:
        return 5.0
    return 0.0


def make_calendar(first_day: date, last_day: date) -> Calendar:
    n = (last_day - first_day).days + 1
    days = [first_day + timedelta(days=i) for i in range(n)]
    years = np.arange(n) / 365.25
    base = np.array([_base_factor(d) for d in days]) * (1.0 + 0.08 * years)  # the shop grows a little
    base /= base.mean()
    weekend = np.array([d.weekday() >= 5 for d in days])
    promo_w = np.array([_promo_weight(d) for d in days])
    per_curve = np.stack([np.where(weekend, 0.0, base), np.where(weekend, base, 0.0), promo_w])
    cum = np.concatenate([np.zeros((3, 1)), np.cumsum(per_curve, axis=1)], axis=1)
    total = np.concatenate([[0.0], np.cumsum(base)])
    singles = np.array([d.month == 11 and d.day == 11 for d in days])
    return Calendar(first_day, n, cum, total, promo_w > 0, singles)


def sample_days(rng: np.random.Generator, cum: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One day per row, drawn with the intensity of ``cum`` between day indices a (incl.) and b (excl.)."""
    lo, hi = cum[a], cum[b]
    u = lo + rng.random(len(a)) * (hi - lo)
    day = np.searchsorted(cum, u, side="right") - 1
    return np.clip(day, a, b - 1)
