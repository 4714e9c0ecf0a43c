"""Product catalogue for the synthetic generator: a 3-level category tree, brands and log-normal prices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# top category, (brands), popularity, ((middle/leaf, median price in CNY, log-sd), ...)
CATEGORY_TREE: tuple[tuple[str, tuple[str, ...], float, tuple[tuple[str, float, float], ...]], ...] = (
    ("服装", ("优衣库", "ZARA", "太平鸟", "海澜之家", "森马", "波司登"), 1.6,
     (("女装/连衣裙", 299, 0.45), ("女装/T恤", 89, 0.4), ("男装/衬衫", 199, 0.4),
      ("男装/羽绒服", 699, 0.45), ("童装/套装", 159, 0.4))),
    ("美妆个护", ("兰蔻", "雅诗兰黛", "欧莱雅", "完美日记", "花西子", "资生堂"), 1.3,
     (("护肤/面霜", 359, 0.55), ("护肤/精华", 499, 0.55), ("彩妆/口红", 229, 0.4),
      ("个护/洗发水", 69, 0.4), ("香水/女士香水", 599, 0.4))),
    ("数码电器", ("华为", "小米", "苹果", "OPPO", "vivo", "联想", "索尼"), 1.0,
     (("手机/智能手机", 3299, 0.45), ("电脑/笔记本电脑", 5999, 0.35), ("耳机/蓝牙耳机", 399, 0.6),
      ("家电/空气净化器", 1499, 0.4), ("智能设备/智能手表", 1299, 0.5))),
    ("食品生鲜", ("三只松鼠", "良品铺子", "百草味", "农夫山泉", "雀巢", "五粮液"), 1.8,
     (("零食/坚果", 59, 0.4), ("饮料/咖啡", 79, 0.45), ("生鲜/水果", 89, 0.5),
      ("粮油/大米", 69, 0.35), ("茶酒/白酒", 499, 0.8))),
    ("家居家装", ("宜家", "罗莱", "水星家纺", "苏泊尔", "九阳", "林氏家居"), 1.0,
     (("家纺/四件套", 299, 0.45), ("厨具/炒锅", 199, 0.4), ("收纳/收纳箱", 49, 0.4),
      ("灯具/台灯", 159, 0.45), ("家具/沙发", 3999, 0.5))),
    ("母婴", ("飞鹤", "帮宝适", "花王", "好孩子", "乐高", "贝亲"), 0.8,
     (("奶粉/婴儿奶粉", 299, 0.3), ("尿裤/纸尿裤", 139, 0.3), ("玩具/积木", 199, 0.6),
      ("喂养/奶瓶", 89, 0.35), ("童车/婴儿推车", 1299, 0.45))),
    ("运动户外", ("耐克", "阿迪达斯", "李宁", "安踏", "迪卡侬", "特步"), 0.9,
     (("运动鞋/跑步鞋", 599, 0.4), ("运动服/运动T恤", 149, 0.4), ("户外/帐篷", 499, 0.5),
      ("健身/瑜伽垫", 99, 0.4), ("骑行/自行车", 1999, 0.6))),
    ("图书文娱", ("人民文学出版社", "中信出版社", "得力", "晨光", "雅马哈", "任天堂"), 0.7,
     (("图书/小说", 45, 0.35), ("图书/童书", 39, 0.35), ("文具/笔记本", 29, 0.4),
      ("乐器/吉他", 899, 0.5), ("游戏/游戏卡带", 299, 0.25))),
)  # fmt: skip

TOP_CATEGORIES: tuple[str, ...] = tuple(top for top, *_ in CATEGORY_TREE)
_MODIFIERS = ("经典款", "新款", "Pro", "轻薄款", "家庭装", "旗舰款", "升级版", "限定版", "基础款", "Plus", "")
PRICE_TIERS = 3  # budget, mid-range, premium within each top category


@dataclass(frozen=True)
class Catalog:
    """Column arrays, one row per product."""

    sku: list[str]
    name: list[str]
    category_path: list[str]
    leaf: list[str]
    brand: list[str]
    price: np.ndarray  # float64, CNY
    top: np.ndarray  # int index into TOP_CATEGORIES
    tier: np.ndarray  # 0 budget .. PRICE_TIERS-1 premium, by price rank within the top category
    popularity: np.ndarray  # Zipf weight

    def __len__(self) -> int:
        return len(self.sku)


def _shop_price(raw: np.ndarray) -> np.ndarray:
    """Round like a shop does: prices above 20 end in 9 (299, 1299), small ones to .9 fen."""
    big = np.maximum(np.round(raw / 10.0) * 10.0 - 1.0, 19.0)
    small = np.maximum(np.round(raw) - 0.1, 1.9)
    return np.where(raw >= 20.0, big, small)


def make_catalog(rng: np.random.Generator, n_products: int) -> Catalog:
    leaves = [
        (t, top, leaf, med, sd) for t, (top, _, _, ls) in enumerate(CATEGORY_TREE) for leaf, med, sd in ls
    ]
    leaf_weight = np.array([CATEGORY_TREE[t][2] for t, *_ in leaves])
    leaf_of = rng.choice(len(leaves), size=n_products, p=leaf_weight / leaf_weight.sum())
    leaf_of.sort(kind="stable")
    top = np.array([leaves[i][0] for i in leaf_of], dtype=np.int64)
    medians = np.array([leaves[i][3] for i in leaf_of], dtype=np.float64)
    sds = np.array([leaves[i][4] for i in leaf_of], dtype=np.float64)
    price = _shop_price(np.exp(np.log(medians) + sds * rng.standard_normal(n_products)))
    # Zipf-like item popularity: a random rank per product, weight 1 / rank^1.1.
    popularity = 1.0 / (rng.permutation(n_products) + 1.0) ** 1.1
    tier = np.zeros(n_products, dtype=np.int64)
    for t in range(len(CATEGORY_TREE)):
        idx = np.flatnonzero(top == t)
        if len(idx):
            ranks = np.argsort(np.argsort(price[idx], kind="stable"), kind="stable")
            tier[idx] = ranks * PRICE_TIERS // len(idx)
    brand_pick = rng.random(n_products)
    modifier = rng.integers(0, len(_MODIFIERS), n_products)
    model = rng.integers(100, 1000, n_products)
    letters = rng.integers(0, 26, n_products)
    sku, name, path, leaf_names, brands = [], [], [], [], []
    for i in range(n_products):
        t, top_name, leaf, _, _ = leaves[leaf_of[i]]
        choices = CATEGORY_TREE[t][1]
        brand = choices[int(brand_pick[i] ** 1.6 * len(choices))]  # earlier brands are bigger
        short = leaf.split("/")[1]
        sku.append(f"P{i + 1:06d}")
        name.append(f"{brand} {_MODIFIERS[modifier[i]]}{short} {chr(65 + letters[i])}{model[i]}")
        path.append(f"{top_name}/{leaf}")
        leaf_names.append(short)
        brands.append(brand)
    return Catalog(sku, name, path, leaf_names, brands, price, top, tier, popularity)


class ProductPicker:
    """Draws products for rows of customers: top category and price tier by preference, then by popularity."""

    def __init__(self, catalog: Catalog) -> None:
        self.n_top = len(CATEGORY_TREE)
        self.groups: list[tuple[np.ndarray, np.ndarray]] = []
        for g in range(self.n_top * PRICE_TIERS):
            top, tier = divmod(g, PRICE_TIERS)
            idx = np.flatnonzero((catalog.top == top) & (catalog.tier == tier))
            if len(idx) == 0:
                idx = np.flatnonzero(catalog.top == top)
            if len(idx) == 0:
                idx = np.arange(len(catalog))
            self.groups.append((idx, np.cumsum(catalog.popularity[idx])))

    def pick(self, rng: np.random.Generator, cat_cum: np.ndarray, tier_cum: np.ndarray) -> np.ndarray:
        n = len(cat_cum)
        top = np.minimum((cat_cum < rng.random(n)[:, None]).sum(axis=1), self.n_top - 1)
        tier = np.minimum((tier_cum < rng.random(n)[:, None]).sum(axis=1), PRICE_TIERS - 1)
        group = top * PRICE_TIERS + tier
        u = rng.random(n)
        out = np.empty(n, dtype=np.int64)
        for g in np.unique(group).tolist():
            rows = group == g
            idx, cum = self.groups[g]
            at = np.searchsorted(cum, u[rows] * cum[-1], side="right")
            out[rows] = idx[np.minimum(at, len(idx) - 1)]
        return out
