"""CRM interactions for the synthetic generator: notes, calls, visits, emails, messages and meetings.

Sales and service staff look after the valuable customers, so the chance of having interactions grows
with spend; the texts mention the customer's favourite category, and customers prone to drop out
more often sound unhappy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tagora.ingest.sources.synthetic.catalog import TOP_CATEGORIES
from tagora.ingest.sources.synthetic.names import STAFF
from tagora.ingest.sources.synthetic.people import People
from tagora.ingest.sources.synthetic.seasons import Calendar
from tagora.ingest.sources.synthetic.timefmt import iso

KINDS = ("note", "call", "visit", "email", "message", "meeting")
_KIND_WEIGHTS = np.array([0.3, 0.25, 0.1, 0.1, 0.2, 0.05])
_TIER_CN = ("普通", "银卡", "金卡", "钻石")
_TEMPLATES = {
    "note": ("客户偏好{top}，价格敏感度{sens}，建议推送{top}优惠券。",
             "客户生日临近，可安排{tier}会员生日礼。"),
    "call": ("电话回访：客户对近期购买的{top}商品表示{mood}。", "电话回访：客户询问{top}新品到货时间。"),
    "visit": ("客户到店体验{top}新品，已登记意向。", "客户到店退换{top}商品，{mood}。"),
    "email": ("发送{tier}会员专属{top}促销邮件。", "发送月度账单与积分提醒邮件。"),
    "message": ("微信沟通：客户咨询订单物流进度，已告知预计送达时间。",
                "微信沟通：客户咨询{top}商品规格，已推荐合适款式。"),
    "meeting": ("与客户面谈，介绍{tier}会员权益与{top}年度采购方案。",),
}  # fmt: skip


def interaction_rows(
    rng: np.random.Generator,
    people: People,
    net: np.ndarray,
    member: np.ndarray,
    fav_top: np.ndarray,
    cal: Calendar,
    start_idx: int,
) -> list[list[Any]]:
    n = len(people)
    chance = 0.01 + 0.1 * (net > 5_000) + 0.3 * (net > 20_000)
    a = np.maximum(people.reg_day + 1, start_idx)
    chosen = np.flatnonzero((rng.random(n) < chance) & (a < cal.n_days))
    count = 1 + rng.poisson(1.5, len(chosen))
    who = np.repeat(chosen, count)
    m = len(who)
    day = a[who] + np.floor(rng.random(m) * (cal.n_days - a[who])).astype(np.int64)
    t = cal.seconds(day) + rng.integers(9 * 3600, 19 * 3600, m)
    order = np.lexsort((t, who))
    who, t = who[order], t[order]
    kinds = rng.choice(len(KINDS), m, p=_KIND_WEIGHTS)
    variant = rng.random(m)
    unhappy = rng.random(m) < people.p_drop[who] * 2.5
    authors = rng.integers(0, len(STAFF), m)
    body: list[str] = []
    for i in range(m):
        c = int(who[i])
        options = _TEMPLATES[KINDS[kinds[i]]]
        body.append(
            options[int(variant[i] * len(options))].format(
                top=TOP_CATEGORIES[fav_top[c]],
                sens="高" if people.sens[c] > 0.5 else "低",
                mood="不满意，需跟进" if unhappy[i] else "满意",
                tier=_TIER_CN[member[c]],
            )
        )
    return [
        [people.key[c] for c in who.tolist()],
        [KINDS[k] for k in kinds.tolist()],
        body,
        [STAFF[s] for s in authors.tolist()],
        iso(t),
    ]
