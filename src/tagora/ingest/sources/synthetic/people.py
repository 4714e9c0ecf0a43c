"""Synthetic customers: who they are (name, place, contact) and their latent buying traits.

Traits follow the BG/NBD story: each customer buys at a gamma-distributed rate ``lam`` while alive
and, after every purchase, drops out with a beta-distributed probability ``p_drop``. On top of that:
a spend level, price sensitivity, category and price-tier preferences, weekend and time-of-day habits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from tagora.ingest.sources.synthetic import names, places
from tagora.ingest.sources.synthetic.catalog import CATEGORY_TREE, PRICE_TIERS
from tagora.ingest.sources.synthetic.seasons import DAY, Calendar

SOURCE_CHANNELS = ("web", "app", "wechat_mini_program", "store", "taobao", "jd")
SOURCE_WEIGHTS = np.array([0.15, 0.30, 0.20, 0.15, 0.12, 0.08])
DIGITAL = 3  # channels below this index are ours and send web/app events
ALL_CITIES = places.CN_CITIES + places.INTL_CITIES
_N_CN = len(places.CN_CITIES)
_CITY_SPEND = {1: 1.35, 2: 1.15, 3: 1.0, 4: 0.9, 5: 0.8}
_CHRONOTYPES = np.array([10.0, 12.5, 16.0, 20.5, 22.5])  # preferred hour of day
_CHRONO_WEIGHTS = np.array([0.15, 0.2, 0.1, 0.35, 0.2])
N_FAVOURITES = 3


@dataclass
class People:
    index: np.ndarray  # global 0-based customer index
    key: list[str]
    female: np.ndarray  # bool
    age: np.ndarray
    city: np.ndarray  # index into ALL_CITIES
    english: np.ndarray  # bool: English name
    reg_day: np.ndarray  # day index in the calendar
    registered: np.ndarray  # local seconds since 1970
    source: np.ndarray  # index into SOURCE_CHANNELS
    digital: np.ndarray  # preferred own channel for web/app events (index < DIGITAL)
    lam: np.ndarray  # purchases per day while alive
    p_drop: np.ndarray
    spend: np.ndarray  # spend level multiplier
    sens: np.ndarray  # price sensitivity 0..1
    weekend: np.ndarray  # share of purchases on weekends
    hour: np.ndarray  # preferred hour of day
    basket: np.ndarray  # mean extra lines per order
    repeat: np.ndarray  # chance a line is one of the favourites
    browse: np.ndarray  # browsing sessions per purchase
    cat_cum: np.ndarray  # (n, n_top) cumulative category preference
    tier_cum: np.ndarray  # (n, PRICE_TIERS) cumulative price-tier preference

    def __len__(self) -> int:
        return len(self.index)


def _cum(p: np.ndarray) -> np.ndarray:
    c = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    c[:, -1] = 1.0
    return c


def _category_preferences(rng: np.random.Generator, female: np.ndarray, age: np.ndarray) -> np.ndarray:
    n = len(female)
    base = np.tile(np.array([w for _, _, w, _ in CATEGORY_TREE]), (n, 1))
    # columns: 服装 美妆个护 数码电器 食品生鲜 家居家装 母婴 运动户外 图书文娱
    base *= np.where(
        female[:, None], [1.3, 2.0, 0.6, 1.0, 1.1, 1.0, 0.8, 1.0], [0.9, 0.3, 1.8, 1.0, 0.9, 0.7, 1.4, 1.0]
    )
    parent = (age >= 25) & (age <= 40)
    base[:, 5] *= np.where(parent, 2.5, 0.25)
    older = age > 50
    base[older] *= [1.0, 0.8, 0.7, 1.4, 1.3, 0.6, 0.8, 1.0]
    return _cum(base * rng.gamma(0.5, 1.0, size=base.shape))  # each customer has a few favourites


def make_people(rng: np.random.Generator, lo: int, hi: int, cal: Calendar, start_idx: int) -> People:
    n = hi - lo
    index = np.arange(lo, hi, dtype=np.int64)
    female = rng.random(n) < 0.56
    age = np.clip(np.round(rng.gamma(6.0, 5.5, n) + 8), 18, 70).astype(np.int64)
    english = rng.random(n) < 0.05
    abroad = np.where(english, rng.random(n) < 0.5, rng.random(n) < 0.01)
    cn_w = np.array([c.weight for c in places.CN_CITIES])
    intl_w = np.array([c.weight for c in places.INTL_CITIES])
    city = np.where(
        abroad,
        _N_CN + rng.choice(len(intl_w), n, p=intl_w / intl_w.sum()),
        rng.choice(_N_CN, n, p=cn_w / cn_w.sum()),
    )
    # A third registered before the period; newer sign-ups grow over time.
    window = cal.n_days - start_idx
    before = rng.random(n) < 0.35
    reg_day = np.where(
        before,
        rng.integers(0, max(start_idx, 1), n),
        start_idx + np.floor(window * rng.random(n) ** 0.8).astype(np.int64),
    )
    hour = np.mod(rng.choice(_CHRONOTYPES, n, p=_CHRONO_WEIGHTS) + rng.normal(0, 1.5, n), 24.0)
    reg_seconds = np.mod(hour * 3600 + rng.normal(0, 1800, n), DAY).astype(np.int64)
    source = rng.choice(len(SOURCE_CHANNELS), n, p=SOURCE_WEIGHTS)
    digital = np.where(source < DIGITAL, source, rng.choice(DIGITAL, n, p=[0.3, 0.5, 0.2]))
    tier = np.array([_CITY_SPEND[ALL_CITIES[c].tier] for c in city])
    spend = rng.lognormal(0.0, 0.5, n) * tier * np.where(abroad, 1.3, 1.0) * np.where(age < 23, 0.7, 1.0)
    sens = rng.beta(2.0, 3.0, n)
    z = np.log(spend) - 1.2 * (sens - 0.4)
    tier_logits = np.stack([-1.6 * z + 0.2, np.full(n, 0.3), 1.6 * z - 0.2], axis=1)[:, :PRICE_TIERS]
    return People(
        index=index,
        key=[f"C{i + 1:08d}" for i in index.tolist()],
        female=female,
        age=age,
        city=city,
        english=english,
        reg_day=reg_day,
        registered=cal.seconds(reg_day) + reg_seconds,
        source=source,
        digital=digital,
        lam=rng.gamma(0.75, 1.0 / 110.0, n),
        p_drop=rng.beta(0.9, 5.0, n),
        spend=spend,
        sens=sens,
        weekend=rng.beta(2.0, 4.0, n),
        hour=hour,
        basket=rng.gamma(1.5, 0.35, n),
        repeat=rng.beta(1.5, 4.0, n),
        browse=rng.gamma(2.0, 1.5, n),
        cat_cum=_category_preferences(rng, female, age),
        tier_cum=_cum(np.exp(tier_logits)),
    )


def identity_columns(
    rng: np.random.Generator, people: People, seed: int, end_year: int
) -> dict[str, list[str]]:
    """Name, gender, birthday, phone, email, country, province, city: one list per column."""
    n = len(people)
    sw = np.array([w for _, _, w in names.SURNAMES])
    surname = rng.choice(len(sw), n, p=sw / sw.sum())
    two_chars = rng.random(n) < 0.7
    g1, g2 = rng.integers(0, 10_000, n), rng.integers(0, 10_000, n)
    first_en = rng.integers(0, 20, n)
    last_en = rng.integers(0, len(names.ENGLISH_SURNAMES), n)
    # Multiplying by a number coprime to 10 permutes residues mod 10**k: unique phone and mail numbers.
    digits = max(5, len(str(int(people.index.max()) + 1)) + 1) if n else 5
    uniq = (people.index * 48_271_457 + seed * 104_729) % 10**digits
    mobile = (people.index * 48_271_457 + seed * 611_953) % 10**8
    prefix = rng.integers(0, len(names.CN_MOBILE_PREFIXES), n)
    cn_dom = rng.choice(len(names.CN_EMAIL_DOMAINS), n, p=[w for _, w in names.CN_EMAIL_DOMAINS])
    intl_dom = rng.choice(len(names.INTL_EMAIL_DOMAINS), n, p=[w for _, w in names.INTL_EMAIL_DOMAINS])
    has_email = rng.random(n) < 0.88
    has_gender = rng.random(n) < 0.98
    has_birthday = rng.random(n) < 0.92
    birth_doy = rng.integers(0, 365, n)
    name, gender, birthday, phone, email, country, province, city_name = ([] for _ in range(8))
    for i in range(n):
        fem = bool(people.female[i])
        c = ALL_CITIES[people.city[i]]
        if people.english[i]:
            first = (names.ENGLISH_FEMALE if fem else names.ENGLISH_MALE)[first_en[i]]
            last = names.ENGLISH_SURNAMES[last_en[i]]
            name.append(f"{first} {last}")
            local = f"{first}.{last}{uniq[i]}".lower()
        else:
            sur, sur_py, _ = names.SURNAMES[surname[i]]
            pool = names.FEMALE_GIVEN if fem else names.MALE_GIVEN
            a, a_py = pool[g1[i] % len(pool)]
            b, b_py = pool[g2[i] % len(pool)] if two_chars[i] else ("", "")
            name.append(sur + a + b)
            local = f"{sur_py}{a_py}{b_py}{uniq[i]}"
        if c.country == "CN":
            phone.append(f"+86{names.CN_MOBILE_PREFIXES[prefix[i]]}{mobile[i]:08d}")
            domain = names.CN_EMAIL_DOMAINS[cn_dom[i]][0]
            if domain == "qq.com":
                local = str(100_000_000 + int(uniq[i]) * 10 + int(g1[i] % 10))
        else:
            phone.append(_intl_phone(c.phone_code, int(mobile[i])))
            domain = names.INTL_EMAIL_DOMAINS[intl_dom[i]][0]
        email.append(f"{local}@{domain}" if has_email[i] else "")
        gender.append(("female" if fem else "male") if has_gender[i] else "")
        year = end_year - int(people.age[i])
        birthday.append(_birthday(year, int(birth_doy[i])) if has_birthday[i] else "")
        country.append(c.country)
        province.append(c.province)
        city_name.append(c.name)
    return {
        "name": name,
        "gender": gender,
        "birthday": birthday,
        "phone": phone,
        "email": email,
        "country": country,
        "province": province,
        "city": city_name,
    }


def _intl_phone(code: str, number: int) -> str:
    if code == "+1":
        return f"+1{[212, 310, 415, 416, 646][number % 5]}{number % 10**7:07d}"
    if code == "+44":
        return f"+447{number % 10**9:09d}"
    if code == "+61":
        return f"+614{number % 10**8:08d}"
    if code == "+81":
        return f"+8190{number % 10**8:08d}"
    return f"{code}9{number % 10**7:07d}"


def _birthday(year: int, day_of_year: int) -> str:
    return (date(year, 1, 1) + timedelta(days=day_of_year)).isoformat()
