"""The aspect lexicon per language: which words say what a review talks about.

An aspect is named by a stable id (``size_fit``, ``delivery``...) in every language, so
English and Chinese reviews of one product add up. Catalog categories and attribute names
are added as further aspects when a model is trained (``catalog_terms``).
"""

from __future__ import annotations

from collections.abc import Iterable

ASPECTS: dict[str, dict[str, list[str]]] = {
    "en": {
        "size_fit": [
            "size",
            "sizes",
            "sizing",
            "fit",
            "fits",
            "fitted",
            "fitting",
            "runs small",
            "runs large",
            "runs big",
            "too small",
            "too big",
            "too large",
            "too tight",
            "too loose",
            "tight",
            "loose",
            "length",
            "petite",
            "true to size",
            "snug",
            "baggy",
            "roomy",
            "oversized",
            "waist",
            "bust",
            "hips",
            "shoulders",
        ],
        "quality": [
            "quality",
            "well made",
            "poorly made",
            "cheaply made",
            "workmanship",
            "craftsmanship",
            "stitching",
            "seams",
            "seam",
            "durable",
            "sturdy",
            "flimsy",
            "fell apart",
            "ripped",
            "tore",
            "torn",
            "hole",
            "holes",
            "construction",
            "zipper",
            "buttons",
        ],
        "material": [
            "material",
            "materials",
            "fabric",
            "fabrics",
            "cotton",
            "silk",
            "linen",
            "wool",
            "polyester",
            "rayon",
            "cashmere",
            "denim",
            "lace",
            "knit",
            "soft",
            "itchy",
            "scratchy",
            "thin",
            "thick",
            "sheer",
            "see through",
            "see-through",
            "stretchy",
            "lining",
            "texture",
        ],
        "delivery": [
            "delivery",
            "delivered",
            "shipping",
            "shipped",
            "arrived",
            "arrival",
            "package",
            "packaging",
            "parcel",
            "courier",
            "dispatch",
            "late",
            "on time",
        ],
        "price": [
            "price",
            "priced",
            "pricey",
            "expensive",
            "cheap",
            "value",
            "worth",
            "cost",
            "costs",
            "sale",
            "discount",
            "bargain",
            "overpriced",
            "money",
        ],
        "customer_service": [
            "customer service",
            "service",
            "seller",
            "staff",
            "support",
            "refund",
            "refunded",
            "return",
            "returned",
            "returning",
            "exchange",
            "exchanged",
            "response",
        ],
        "colour": [
            "color",
            "colors",
            "colour",
            "colours",
            "shade",
            "print",
            "pattern",
            "faded",
            "fade",
            "bright",
            "vibrant",
        ],
        "style": ["style", "design", "look", "looks", "cut", "flattering", "cute", "beautiful", "pretty", "elegant"],
        "comfort": ["comfortable", "comfy", "comfort", "uncomfortable", "cozy", "breathable"],
    },
    "zh": {
        "size_fit": [
            "尺码",
            "尺寸",
            "大小",
            "偏大",
            "偏小",
            "合身",
            "码数",
            "号码",
            "太大",
            "太小",
            "紧",
            "宽松",
            "长度",
        ],
        "quality": ["质量", "品质", "做工", "质感", "工艺", "耐用", "结实", "瑕疵", "线头", "开线", "破损"],
        "material": ["面料", "材质", "布料", "料子", "材料", "纯棉", "棉", "丝绸", "手感", "起球", "掉色"],
        "delivery": ["物流", "快递", "发货", "送货", "到货", "配送", "包装", "速度", "运输", "送达"],
        "price": ["价格", "价钱", "性价比", "便宜", "实惠", "划算", "价位", "太贵", "贵"],
        "customer_service": ["客服", "服务", "售后", "态度", "退货", "换货", "退款", "商家", "卖家", "前台"],
        "colour": ["颜色", "色差", "色彩", "颜色"],
        "style": ["款式", "样式", "外观", "设计", "外形", "漂亮", "好看"],
        "comfort": ["舒服", "舒适", "透气"],
        "battery": ["电池", "续航", "充电"],
        "screen": ["屏幕", "显示屏", "屏"],
    },
}
ASPECTS["en"]["battery"] = ["battery", "battery life", "charging", "charge"]
ASPECTS["en"]["screen"] = ["screen", "display"]

#: Readable names of the aspects (catalog terms name themselves).
ASPECT_NAMES = {
    "size_fit": "size and fit",
    "quality": "quality",
    "material": "material",
    "delivery": "delivery",
    "price": "price",
    "customer_service": "customer service",
    "colour": "colour",
    "style": "style",
    "comfort": "comfort",
    "battery": "battery",
    "screen": "screen",
}

#: Words that carry no topic (beyond spaCy's own stop words for English).
ZH_STOP_WORDS = frozenset(
    ["的", "了", "是", "我", "也", "很", "在", "都", "就", "和", "有", "不", "还", "这", "那", "个", "一个", "没有", "但是", "但", "非常", "比较", "感觉", "觉得", "还是", "可以", "就是", "这个", "那个", "什么", "我们", "他们", "你们", "自己", "因为", "所以", "而且", "如果", "虽然", "然后", "一下", "一点", "一些", "真的", "特别", "太", "吧", "啊", "呢", "吗", "哦", "呀", "着", "过", "又", "被", "把", "让", "给", "从", "对", "到", "说", "要", "会", "能", "去", "来", "上", "下", "里", "为", "与", "及", "等", "其", "之", "所", "以", "于", "而", "并", "或", "它", "她", "他", "你"]
)


def aspect_patterns(language: str, catalog_terms: Iterable[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """EntityRuler patterns (label ``ASPECT``, id = the aspect) for a language's lexicon plus
    ``(aspect, term)`` pairs from the catalog."""
    patterns = [
        {"label": "ASPECT", "pattern": term, "id": aspect}
        for aspect, terms in ASPECTS[language].items()
        for term in dict.fromkeys(terms)
    ]
    seen = {p["pattern"] for p in patterns}
    for aspect, term in catalog_terms:
        term = term.strip().lower()
        if term and term not in seen and len(term) <= 60:
            seen.add(term)
            patterns.append({"label": "ASPECT", "pattern": term, "id": aspect})
    return patterns


def aspect_name(aspect: str) -> str:
    """A readable name of an aspect id."""
    return ASPECT_NAMES.get(aspect, aspect.replace("_", " "))
