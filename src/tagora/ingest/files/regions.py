"""Chinese provincial-level divisions and city names in one standard (full Chinese) form.

The 34 divisions: 23 provinces, 4 municipalities, 5 autonomous regions, 2 special administrative regions.
A name is recognised in its full form ("广东省"), its short form ("广东") or its pinyin/English name
("Guangdong", "Guangdong Province"). Cities follow a suffix rule: a Chinese name without an
administrative suffix gets "市" ("深圳" → "深圳市").
"""

from __future__ import annotations

import re

# full name, short name, English names (lower-case comparison)
PROVINCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("北京市", "北京", ("beijing", "peking")),
    ("天津市", "天津", ("tianjin",)),
    ("上海市", "上海", ("shanghai",)),
    ("重庆市", "重庆", ("chongqing",)),
    ("河北省", "河北", ("hebei",)),
    ("山西省", "山西", ("shanxi",)),
    ("辽宁省", "辽宁", ("liaoning",)),
    ("吉林省", "吉林", ("jilin",)),
    ("黑龙江省", "黑龙江", ("heilongjiang",)),
    ("江苏省", "江苏", ("jiangsu",)),
    ("浙江省", "浙江", ("zhejiang",)),
    ("安徽省", "安徽", ("anhui",)),
    ("福建省", "福建", ("fujian",)),
    ("江西省", "江西", ("jiangxi",)),
    ("山东省", "山东", ("shandong",)),
    ("河南省", "河南", ("henan",)),
    ("湖北省", "湖北", ("hubei",)),
    ("湖南省", "湖南", ("hunan",)),
    ("广东省", "广东", ("guangdong",)),
    ("海南省", "海南", ("hainan",)),
    ("四川省", "四川", ("sichuan",)),
    ("贵州省", "贵州", ("guizhou",)),
    ("云南省", "云南", ("yunnan",)),
    ("陕西省", "陕西", ("shaanxi",)),
    ("甘肃省", "甘肃", ("gansu",)),
    ("青海省", "青海", ("qinghai",)),
    ("台湾省", "台湾", ("taiwan",)),
    ("内蒙古自治区", "内蒙古", ("inner mongolia", "nei mongol", "neimenggu")),
    ("广西壮族自治区", "广西", ("guangxi",)),
    ("西藏自治区", "西藏", ("tibet", "xizang")),
    ("宁夏回族自治区", "宁夏", ("ningxia",)),
    ("新疆维吾尔自治区", "新疆", ("xinjiang",)),
    ("香港特别行政区", "香港", ("hong kong", "hongkong", "hong kong sar")),
    ("澳门特别行政区", "澳门", ("macau", "macao", "macau sar", "macao sar")),
)

_ENGLISH_SUFFIX = re.compile(r"\s+(province|sheng|shi|municipality|autonomous region|city|sar)$")
_ALIASES: dict[str, str] = {}
for _full, _short, _english in PROVINCES:
    _ALIASES[_full] = _full
    _ALIASES[_short] = _full
    for _name in _english:
        _ALIASES[_name] = _full
# Common short forms that keep part of the suffix ("广西壮族", "新疆维吾尔", "宁夏回族", "内蒙").
_ALIASES.update(
    {
        "广西壮族": "广西壮族自治区",
        "新疆维吾尔": "新疆维吾尔自治区",
        "宁夏回族": "宁夏回族自治区",
        "内蒙": "内蒙古自治区",
        "香港特区": "香港特别行政区",
        "澳门特区": "澳门特别行政区",
    }
)

# Not plain "州": 杭州 and 广州 are cities (杭州市); prefectures end in 自治州.
_CITY_SUFFIXES = ("市", "自治州", "盟", "地区", "区", "县", "旗", "特别行政区")
_CJK = re.compile(r"^[\u4e00-\u9fff·]+$")


def normalize_province(value: str) -> str:
    """The standard full Chinese name when recognised; otherwise the trimmed input unchanged."""
    text = " ".join(value.split())
    if not text:
        return text
    if text in _ALIASES:
        return _ALIASES[text]
    lowered = _ENGLISH_SUFFIX.sub("", text.lower()).strip()
    lowered = lowered.removesuffix("省").removesuffix("市")
    return _ALIASES.get(lowered, text)


def normalize_city(value: str) -> str:
    """A Chinese city name gets "市" unless it already ends in an administrative suffix."""
    text = " ".join(value.split())
    if not text or not _CJK.match(text):
        return text
    if not text.endswith(_CITY_SUFFIXES):
        return text + "市"
    return text
