"""Places for the synthetic generator: Chinese provinces and cities with population and city tier.

Populations are 2020-census figures in millions (province total, then the listed cities). City tiers
follow the usual commercial ranking: 1 一线, 2 新一线, 3 二线, 4 三线, 5 四线及以下.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    country: str
    province: str
    name: str
    tier: int
    weight: float  # relative share of customers
    phone_code: str


# province, population (millions), ((city, population, tier), ...)
_PROVINCES: tuple[tuple[str, float, tuple[tuple[str, float, int], ...]], ...] = (
    ("北京市", 21.9, (("北京市", 21.9, 1),)),
    ("天津市", 13.9, (("天津市", 13.9, 2),)),
    ("河北省", 74.6, (("石家庄市", 11.2, 3), ("唐山市", 7.7, 3), ("保定市", 9.2, 3), ("邯郸市", 9.4, 4),
                     ("廊坊市", 5.5, 3), ("沧州市", 7.3, 4))),
    ("山西省", 34.9, (("太原市", 5.3, 3), ("大同市", 3.1, 4), ("运城市", 4.8, 4), ("长治市", 3.2, 4))),
    ("内蒙古自治区", 24.0, (("呼和浩特市", 3.4, 3), ("包头市", 2.7, 4), ("赤峰市", 4.0, 5),
                           ("鄂尔多斯市", 2.2, 4))),
    ("辽宁省", 42.6, (("沈阳市", 9.1, 2), ("大连市", 7.5, 3), ("鞍山市", 3.3, 4), ("锦州市", 2.7, 5))),
    ("吉林省", 24.1, (("长春市", 9.1, 3), ("吉林市", 3.6, 4))),
    ("黑龙江省", 31.9, (("哈尔滨市", 10.0, 3), ("大庆市", 2.8, 4), ("齐齐哈尔市", 4.1, 5))),
    ("上海市", 24.9, (("上海市", 24.9, 1),)),
    ("江苏省", 84.7, (("南京市", 9.3, 2), ("苏州市", 12.7, 2), ("无锡市", 7.5, 3), ("常州市", 5.3, 3),
                     ("南通市", 7.7, 3), ("徐州市", 9.1, 3), ("扬州市", 4.6, 3), ("盐城市", 6.7, 4))),
    ("浙江省", 64.6, (("杭州市", 11.9, 2), ("宁波市", 9.4, 2), ("温州市", 9.6, 3), ("嘉兴市", 5.4, 3),
                     ("金华市", 7.1, 3), ("绍兴市", 5.3, 3), ("台州市", 6.6, 3))),
    ("安徽省", 61.0, (("合肥市", 9.4, 2), ("芜湖市", 3.6, 3), ("阜阳市", 8.2, 4), ("安庆市", 4.2, 4))),
    ("福建省", 41.5, (("福州市", 8.3, 3), ("厦门市", 5.2, 3), ("泉州市", 8.8, 3), ("漳州市", 5.1, 4))),
    ("江西省", 45.2, (("南昌市", 6.3, 3), ("赣州市", 9.0, 4), ("九江市", 4.6, 4), ("上饶市", 6.5, 4))),
    ("山东省", 101.5, (("济南市", 9.2, 3), ("青岛市", 10.1, 2), ("烟台市", 7.1, 3), ("潍坊市", 9.4, 3),
                      ("临沂市", 11.0, 3), ("济宁市", 8.4, 4), ("淄博市", 4.7, 3))),
    ("河南省", 99.4, (("郑州市", 12.6, 2), ("洛阳市", 7.1, 3), ("南阳市", 9.7, 4), ("新乡市", 6.3, 4),
                     ("商丘市", 7.8, 4), ("周口市", 9.0, 5))),
    ("湖北省", 57.8, (("武汉市", 12.3, 2), ("宜昌市", 4.0, 3), ("襄阳市", 5.3, 3), ("荆州市", 5.2, 4))),
    ("湖南省", 66.4, (("长沙市", 10.0, 2), ("株洲市", 3.9, 4), ("衡阳市", 6.6, 4), ("岳阳市", 5.1, 4),
                     ("常德市", 5.3, 4))),
    ("广东省", 126.0, (("广州市", 18.7, 1), ("深圳市", 17.6, 1), ("东莞市", 10.5, 2), ("佛山市", 9.5, 2),
                      ("珠海市", 2.4, 3), ("惠州市", 6.0, 3), ("中山市", 4.4, 3), ("汕头市", 5.5, 3),
                      ("湛江市", 7.0, 4))),
    ("广西壮族自治区", 50.1, (("南宁市", 8.7, 3), ("柳州市", 4.2, 4), ("桂林市", 4.9, 4))),
    ("海南省", 10.1, (("海口市", 2.9, 3), ("三亚市", 1.0, 4))),
    ("重庆市", 32.1, (("重庆市", 32.1, 2),)),
    ("四川省", 83.7, (("成都市", 20.9, 2), ("绵阳市", 4.9, 3), ("南充市", 5.6, 4), ("宜宾市", 4.6, 4),
                     ("德阳市", 3.5, 4))),
    ("贵州省", 38.6, (("贵阳市", 6.0, 3), ("遵义市", 6.6, 4))),
    ("云南省", 47.2, (("昆明市", 8.5, 3), ("曲靖市", 5.8, 4), ("玉溪市", 2.2, 4))),
    ("西藏自治区", 3.6, (("拉萨市", 0.9, 5),)),
    ("陕西省", 39.5, (("西安市", 13.0, 2), ("宝鸡市", 3.3, 4), ("咸阳市", 4.2, 4))),
    ("甘肃省", 25.0, (("兰州市", 4.4, 3), ("天水市", 3.0, 5))),
    ("青海省", 5.9, (("西宁市", 2.5, 4),)),
    ("宁夏回族自治区", 7.2, (("银川市", 2.9, 4),)),
    ("新疆维吾尔自治区", 25.9, (("乌鲁木齐市", 4.1, 3), ("克拉玛依市", 0.5, 5))),
)  # fmt: skip

# Online shoppers concentrate in big cities: weight a city's population by its tier.
_TIER_UPLIFT = {1: 2.2, 2: 1.6, 3: 1.2, 4: 0.9, 5: 0.7}


def _china() -> tuple[City, ...]:
    cities: list[City] = []
    for province, population, listed in _PROVINCES:
        listed_total = sum(pop for _, pop, _ in listed)
        for name, pop, tier in listed:
            weight = population * pop / listed_total * _TIER_UPLIFT[tier]
            cities.append(City("CN", province, name, tier, weight, "+86"))
    return tuple(cities)


CN_CITIES: tuple[City, ...] = _china()

# Where the few customers living abroad are; tier 1 stands for "large international city".
INTL_CITIES: tuple[City, ...] = (
    City("US", "California", "Los Angeles", 1, 3.0, "+1"),
    City("US", "New York", "New York", 1, 3.0, "+1"),
    City("GB", "England", "London", 1, 2.0, "+44"),
    City("SG", "Singapore", "Singapore", 1, 2.5, "+65"),
    City("AU", "New South Wales", "Sydney", 1, 1.5, "+61"),
    City("CA", "Ontario", "Toronto", 1, 1.5, "+1"),
    City("JP", "Tokyo", "Tokyo", 1, 1.0, "+81"),
)

CITY_TIER: dict[tuple[str, str], int] = {(c.province, c.name): c.tier for c in CN_CITIES + INTL_CITIES}
