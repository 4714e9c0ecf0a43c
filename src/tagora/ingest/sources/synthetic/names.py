"""People data for the synthetic generator: surnames by frequency, given-name characters, English names.

Surname shares are the approximate per-cent of China's population (public-security household
register figures); the generator samples proportionally to them.
"""

from __future__ import annotations

# surname, pinyin, share of population in %
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.25), ("李", "li", 7.19), ("张", "zhang", 6.83), ("刘", "liu", 5.38),
    ("陈", "chen", 4.53), ("杨", "yang", 3.08), ("黄", "huang", 2.23), ("赵", "zhao", 2.19),
    ("吴", "wu", 2.05), ("周", "zhou", 1.96), ("徐", "xu", 1.63), ("孙", "sun", 1.50),
    ("马", "ma", 1.45), ("朱", "zhu", 1.42), ("胡", "hu", 1.32), ("郭", "guo", 1.30),
    ("何", "he", 1.17), ("高", "gao", 1.07), ("林", "lin", 1.05), ("罗", "luo", 1.02),
    ("郑", "zheng", 0.93), ("梁", "liang", 0.89), ("谢", "xie", 0.81), ("宋", "song", 0.77),
    ("唐", "tang", 0.75), ("许", "xu", 0.68), ("韩", "han", 0.68), ("冯", "feng", 0.66),
    ("邓", "deng", 0.65), ("曹", "cao", 0.62), ("彭", "peng", 0.57), ("曾", "zeng", 0.56),
    ("肖", "xiao", 0.54), ("田", "tian", 0.52), ("董", "dong", 0.51), ("袁", "yuan", 0.50),
    ("潘", "pan", 0.49), ("于", "yu", 0.49), ("蒋", "jiang", 0.47), ("蔡", "cai", 0.46),
    ("余", "yu", 0.45), ("杜", "du", 0.44), ("叶", "ye", 0.43), ("程", "cheng", 0.42),
    ("苏", "su", 0.40), ("魏", "wei", 0.39), ("吕", "lv", 0.38), ("丁", "ding", 0.37),
    ("任", "ren", 0.36), ("沈", "shen", 0.36), ("姚", "yao", 0.35), ("卢", "lu", 0.34),
    ("姜", "jiang", 0.33), ("崔", "cui", 0.32), ("钟", "zhong", 0.31), ("谭", "tan", 0.30),
    ("陆", "lu", 0.29), ("汪", "wang", 0.28), ("范", "fan", 0.27), ("金", "jin", 0.26),
    ("石", "shi", 0.25), ("廖", "liao", 0.24), ("贾", "jia", 0.23), ("夏", "xia", 0.22),
    ("韦", "wei", 0.21), ("付", "fu", 0.20), ("方", "fang", 0.19), ("白", "bai", 0.18),
    ("邹", "zou", 0.17), ("孟", "meng", 0.16), ("熊", "xiong", 0.15), ("秦", "qin", 0.15),
    ("邱", "qiu", 0.15), ("江", "jiang", 0.14), ("尹", "yin", 0.14), ("薛", "xue", 0.13),
    ("闫", "yan", 0.13), ("段", "duan", 0.12), ("雷", "lei", 0.12), ("侯", "hou", 0.12),
    ("龙", "long", 0.11), ("史", "shi", 0.11), ("陶", "tao", 0.10), ("黎", "li", 0.10),
    ("贺", "he", 0.10), ("顾", "gu", 0.10), ("毛", "mao", 0.10), ("郝", "hao", 0.09),
    ("龚", "gong", 0.09), ("邵", "shao", 0.09), ("万", "wan", 0.09), ("欧阳", "ouyang", 0.03),
    ("上官", "shangguan", 0.01), ("司马", "sima", 0.01), ("诸葛", "zhuge", 0.005),
)  # fmt: skip

_MALE_CHARS = (
    "伟wei 强qiang 磊lei 军jun 洋yang 勇yong 杰jie 涛tao 明ming 超chao 刚gang 平ping 辉hui 鹏peng "
    "华hua 飞fei 鑫xin 波bo 斌bin 宇yu 浩hao 凯kai 健jian 俊jun 帆fan 帅shuai 旭xu 宁ning 龙long "
    "林lin 博bo 建jian 志zhi 文wen 海hai 东dong 峰feng 亮liang 子zi 轩xuan 睿rui 泽ze 晨chen 阳yang "
    "天tian 一yi 航hang 铭ming 思si 远yuan 嘉jia 豪hao 成cheng 国guo 永yong 金jin 毅yi 彬bin"
)
_FEMALE_CHARS = (
    "芳fang 娜na 敏min 静jing 丽li 艳yan 娟juan 霞xia 秀xiu 玲ling 英ying 婷ting 雪xue 琳lin "
    "倩qian 颖ying 晶jing 慧hui 佳jia 梅mei 萍ping 红hong 燕yan 瑶yao 怡yi 欣xin 悦yue 璐lu "
    "蕾lei 丹dan 洁jie 琪qi 晨chen 月yue 薇wei 萱xuan 涵han 彤tong 诗shi 雨yu 梓zi 思si 可ke "
    "馨xin 若ruo 语yu 欢huan 茜qian 露lu 莉li 楠nan 雯wen 妍yan 嘉jia 宁ning 婧jing 晓xiao"
)


def _chars(spec: str) -> tuple[tuple[str, str], ...]:
    return tuple((token[0], token[1:]) for token in spec.split())


MALE_GIVEN: tuple[tuple[str, str], ...] = _chars(_MALE_CHARS)
FEMALE_GIVEN: tuple[tuple[str, str], ...] = _chars(_FEMALE_CHARS)

ENGLISH_MALE = (
    "James", "John", "Robert", "Michael", "David", "William", "Richard", "Thomas", "Daniel", "Matthew",
    "Andrew", "Kevin", "Brian", "Eric", "Jason", "Ryan", "Peter", "Mark", "Tony", "Leo",
)  # fmt: skip
ENGLISH_FEMALE = (
    "Mary", "Jennifer", "Linda", "Sarah", "Emily", "Jessica", "Emma", "Olivia", "Sophia", "Grace",
    "Anna", "Lucy", "Chloe", "Amy", "Hannah", "Rachel", "Laura", "Kate", "Alice", "Helen",
)  # fmt: skip
ENGLISH_SURNAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark",
    "Lee", "Walker", "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker",
    "Chen", "Wong", "Lin", "Zhang", "Evans",
)  # fmt: skip

# Email domains used by Chinese customers; "qq.com" addresses are the QQ number.
CN_EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("qq.com", 0.45), ("163.com", 0.22), ("126.com", 0.08), ("sina.com", 0.05),
    ("gmail.com", 0.06), ("outlook.com", 0.06), ("foxmail.com", 0.05), ("139.com", 0.03),
)  # fmt: skip
INTL_EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.55),
    ("outlook.com", 0.25),
    ("yahoo.com", 0.12),
    ("icloud.com", 0.08),
)

# Chinese mobile number prefixes (China Mobile, Unicom, Telecom) after the +86 country code.
CN_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "170", "173", "175", "176", "177", "178", "180", "181",
    "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip

# Staff who write CRM interactions.
STAFF = (
    "销售-王敏",
    "销售-李强",
    "销售-张婷",
    "客服-刘洋",
    "客服-陈静",
    "客服-赵磊",
    "店长-周杰",
    "Sales - Amy Lin",
)
