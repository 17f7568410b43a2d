"""What every part of the demo builder shares: its constants, seeded random helpers, the county
it builds and the plan it holds in memory."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from faker import Faker
from sqlalchemy.orm import Session

from care.demo.rows import Writer
from care.domain import ids
from care.domain.rules import years_before
from db.models import (
    Base,
)

COUNTY_CODE = "522699000000"


COUNTY_NAME = "青山县（演示）"


DEMO_USERNAMES = ("county", "township", "coordinator", "admin")


# A demo city (州) of several counties: county k is 5226(99-k), under the city and its province.
CITY_CODE = "522600000000"


CITY_NAME = "青山州（演示）"


PROVINCE_CODE = "520000000000"


PROVINCE_NAME = "演示省"


CITY_USERNAME = "city"


COUNTY_NAMES = (
    COUNTY_NAME,
    "雾岭县（演示）",
    "月溪县（演示）",
    "枫坪县（演示）",
    "竹岗县（演示）",
    "岩湾县（演示）",
    "桃坳县（演示）",
    "杉冲县（演示）",
    "茶坝县（演示）",
    "梨溪县（演示）",
    "云坳县（演示）",
    "松岗县（演示）",
    "麻冲县（演示）",
    "柳坝县（演示）",
    "石坳县（演示）",
    "鹿溪县（演示）",
)


MAX_COUNTIES = len(COUNTY_NAMES)


# Township names of the counties after the first: a head and one of these, then 镇 or 乡.
TOWNSHIP_TAILS = ("江", "山", "溪", "岭", "坪", "水", "口", "桥", "河", "场", "寨", "塘")


# The steps of building the demo, in order, as reported to a progress callback (a city repeats
# the steps from areas to services for each county).
BUILD_STEPS = ("migrate", "areas", "persons", "registers", "visits", "risks", "due_dates", "services", "statistics")


COUNTY_STEPS = BUILD_STEPS[1:-1]


Progress = Callable[[str], None]


# A city's progress: the step, and the county it is for (None: a step of the whole database).
CityProgress = Callable[[str, str | None], None]


# Leishan county, Guizhou: hilly terrain, villages strung along valleys.
LAT_RANGE = (26.15, 26.65)


LON_RANGE = (107.95, 108.45)


# A city's counties tile the map in rows of boxes this far apart (a box, and a gap that keeps the
# jittered outlines of neighbours apart); county 0 keeps the box above.
BOX_STEP = 0.52


GRID_ROWS, GRID_COLS = 3, 4


AREAS_VALID_FROM = dt.date(2020, 1, 1)


HISTORY_DAYS = 365


CHUNK = 5000


KM_PER_DEG_LAT = 111.0


KM_PER_DEG_LON = KM_PER_DEG_LAT * math.cos(math.radians(26.4))


# (name, code digits): 1xx are towns (镇), 2xx townships (乡).
TOWNSHIPS: tuple[tuple[str, str], ...] = (
    ("丹江镇", "101"),
    ("西江镇", "102"),
    ("永乐镇", "103"),
    ("郎德镇", "104"),
    ("大塘镇", "105"),
    ("青山镇", "106"),
    ("白岩镇", "107"),
    ("雷公镇", "108"),
    ("桃江乡", "201"),
    ("望丰乡", "202"),
    ("方祥乡", "203"),
    ("达地乡", "204"),
)


VILLAGE_HEADS = (
    "羊",
    "乌",
    "南",
    "白",
    "排",
    "干",
    "麻",
    "开",
    "掌",
    "陶",
    "猫",
    "高",
    "平",
    "新",
    "黄",
    "杨",
    "龙",
    "格",
    "岩",
    "板",
    "乔",
    "交",
    "甘",
    "也",
    "毛",
    "提",
    "固",
    "雀",
    "报",
    "九",
    "方",
    "虎",
    "郎",
    "大",
    "小",
    "上",
    "下",
    "石",
    "茶",
    "竹",
    "水",
    "老",
    "长",
    "中",
    "桃",
    "脚",
    "响",
    "里",
)


VILLAGE_TAILS = (
    "排",
    "东",
    "寨",
    "坡",
    "冲",
    "溪",
    "坝",
    "岭",
    "塘",
    "山",
    "湾",
    "坳",
    "洞",
    "河",
    "田",
    "岗",
    "坪",
    "堡",
    "场",
    "雄",
    "略",
    "讲",
    "告",
    "吉",
    "党",
    "卡",
    "柳",
    "烧",
    "别",
    "苗",
    "林",
    "街",
)


COMMUNITY_NAMES = ("新街", "河滨", "南门", "营上", "城关", "龙头", "桥头", "北门")


OTHER_REGIONS = ("522634", "522601", "522635", "522622", "522627", "520103", "520102", "433130")


MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)


WORKPLACES = (
    "广东省东莞市",
    "广东省深圳市",
    "广东省广州市",
    "广东省佛山市",
    "浙江省宁波市",
    "浙江省温州市",
    "浙江省杭州市",
    "福建省厦门市",
    "福建省泉州市",
    "江苏省苏州市",
    "上海市",
    "贵州省贵阳市",
    "贵州省凯里市",
)


# Realistic shares of the registers (fractions of residents / of a group).
CHILD_SHARE, ELDERLY_SHARE = 0.38, 0.45


CHILD_ALSO_DISABLED, ELDERLY_ALSO_DISABLED = 0.04, 0.10


ENDED_SHARE, PRIOR_EPISODE_SHARE = 0.004, 0.0015


AGEING_OUT_SHARE = 0.03  # children reaching their sub-type's age limit within 90 days


HISTORY_SHARE, UNASSIGNED_SHARE, BEHIND_SHARE, JOINT_SHARE = 0.05, 0.03, 0.10, 0.6


NEED_SHARE = 0.006


COORDINATOR_BEHIND = 3


# Households (户). Elders who live with someone may share a household with registered relatives of
# their village; everyone else on the registers lives in a household of their own.
FAMILY_LIVING = ("with_spouse", "with_relatives")


# 留守老人 and disabled elders often raise the grandchildren their migrant children left behind.
GRANDPARENT_SUBTYPES = ("left_behind", "disabled_elderly", "severe_disabled")


GRANDPARENT_GAP = (45, 65)  # years a grandparent is older than a grandchild


PARENT_GAP = (20, 42)  # years a parent is older than their child


SPOUSE_GAP = 8  # years between spouses at most


SIBLING_GAP = 12  # years between the oldest and youngest grandchild of a household at most


GRANDCHILDREN = ((1, 50), (2, 38), (3, 12))  # grandchildren of one household on the register


# Many grandparents raising a child are under 60, so not on the elderly register themselves.
GRANDPARENT_REGISTERED_SHARE = 0.6


SECOND_GRANDPARENT_SHARE = 0.7  # a grandparent living with a spouse has them on the register too


DISABLED_WITH_PARENTS_SHARE = 0.6  # disabled adults looked after by their elderly parents


SECOND_PARENT_SHARE = 0.5


COUPLE_SHARE = 0.75  # elders living with a spouse whose spouse is also an elder on the register


HUKOU_SHARE = 0.3  # households whose 户口簿 户号 was recorded


CHILD_SUBTYPES = (("left_behind", 75), ("distressed", 20), ("unsupported", 5))


GUARDIANSHIP_BY_SUBTYPE: dict[str, tuple[tuple[str, int], ...]] = {
    "left_behind": (("grandparent", 78), ("relative", 10), ("one_parent", 10), ("none", 2)),
    "distressed": (("one_parent", 45), ("grandparent", 35), ("relative", 18), ("none", 2)),
    "unsupported": (("grandparent", 57), ("relative", 40), ("none", 3)),
}


ELDERLY_SUBTYPES = (
    ("empty_nest", 34),
    ("left_behind", 26),
    ("alone", 20),
    ("disabled_elderly", 10),
    ("severe_disabled", 4),
    ("special_family", 6),
)


ELDERLY_SUBTYPES_DISABLED = (
    ("disabled_elderly", 35),
    ("severe_disabled", 25),
    ("empty_nest", 15),
    ("left_behind", 12),
    ("alone", 10),
    ("special_family", 3),
)


LIVING_BY_SUBTYPE: dict[str, tuple[tuple[str, int], ...]] = {
    "alone": (("alone", 1),),
    "empty_nest": (("with_spouse", 1),),
    "left_behind": (("with_spouse", 50), ("with_relatives", 40), ("alone", 10)),
    "disabled_elderly": (("with_spouse", 45), ("with_relatives", 35), ("alone", 12), ("institution", 8)),
    "severe_disabled": (("with_relatives", 50), ("with_spouse", 35), ("institution", 15)),
    "special_family": (("with_spouse", 60), ("alone", 40)),
}


CATEGORY_WEIGHTS: dict[str, tuple[int, ...]] = {
    # 视力, 听力, 言语, 肢体, 智力, 精神, 多重
    "child": (6, 10, 6, 28, 30, 4, 16),
    "elderly": (18, 22, 1, 45, 2, 4, 8),
    "disabled": (10, 8, 2, 50, 10, 14, 6),
}


GRADE_WEIGHTS = (12, 23, 30, 35)


REHAB_NEEDS: dict[int, tuple[str, ...]] = {
    1: ("定向行走训练", "助视器适配", "白内障复明手术评估"),
    2: ("助听器验配", "听力言语康复训练"),
    3: ("言语康复训练",),
    4: ("肢体功能康复训练", "轮椅适配", "家庭无障碍改造", "假肢矫形器适配"),
    5: ("认知能力训练", "生活自理能力训练"),
    6: ("精神科随访与服药指导", "社区康复活动"),
    7: ("综合康复训练", "生活照料服务"),
}


DEVICES: dict[int, tuple[str, ...]] = {1: ("盲杖",), 2: ("助听器",), 4: ("轮椅", "拐杖", "助行器", "假肢")}


EXIT_WEIGHTS: dict[str, tuple[tuple[str, int], ...]] = {
    "child": (("aged_out", 40), ("parent_returned", 30), ("guardianship_restored", 10), ("moved", 15), ("other", 5)),
    "elderly": (("died", 45), ("institution", 20), ("children_returned", 20), ("moved", 10), ("other", 5)),
    "disabled": (("died", 25), ("moved", 25), ("certificate_cancelled", 35), ("other", 15)),
}


PRIOR_EXIT_REASONS = {"child": "parent_returned", "elderly": "children_returned", "disabled": "certificate_cancelled"}


PERSON_ENDING = {"died": "deceased", "moved": "moved"}


EXIT_NOTES = ("经入户核实，已不符合纳入条件", "本人申请退出", "与其他救助保障重复，按规定退出")


NOT_MET_NOTES = ("家中无人，电话未接通", "对象外出赶集", "对象外出走亲戚", "监护人带孩子外出就医", "对象在地里劳作未归")


CANCEL_REASONS = ("道路塌方，无法通行", "暴雨天气，改期走访", "工作人员参加培训", "对象住院治疗，改期走访")


PHONE_NOTES = ("电话回访，情况稳定", "电话联系，近况良好", "视频通话，精神状态良好")


VISIT_NOTES: dict[str, tuple[str, ...]] = {
    "child": (
        "孩子学习情况良好",
        "已与监护人沟通安全教育",
        "提醒监护人注意防溺水",
        "孩子与在外父母每周视频联系",
        "家中卫生状况一般，已提醒",
    ),
    "elderly": (
        "老人身体状况良好",
        "老人血压偏高，已提醒按时服药",
        "已检查用火用电安全",
        "帮助老人代购生活用品",
        "老人反映子女每月寄钱，生活有保障",
    ),
    "disabled": (
        "康复训练按计划进行",
        "辅具使用正常",
        "已讲解残疾人两项补贴政策",
        "家属照料到位",
        "精神状态稳定，按时服药",
    ),
}


NEEDS_BY_GROUP: dict[str, tuple[str, ...]] = {
    "child": ("schooling", "guardianship", "medical", "subsidy"),
    "elderly": ("medical", "subsidy", "other"),
    "disabled": ("rehab", "assistive_device", "subsidy", "medical"),
}


NEED_DETAILS: dict[str, tuple[str, str]] = {
    "medical": ("乡镇卫生院", "需协助就医或慢病随访"),
    "schooling": ("县教育和科技局", "需协调入学或学业帮扶"),
    "subsidy": ("县民政局", "需核查救助补贴申领"),
    "rehab": ("县残疾人联合会", "需安排康复训练服务"),
    "assistive_device": ("县残疾人联合会", "需适配或更换辅助器具"),
    "guardianship": ("县未成年人救助保护中心", "监护不力，需开展监护干预"),
    "other": ("乡镇人民政府", "需协调解决生活困难"),
}


class DemoRefused(ValueError):
    """The database is not empty, so the demo county is not built into it."""


def demo_rng(seed: int, part: str) -> random.Random:
    """A random stream for one part of the demo, fixed by the seed alone."""
    return random.Random(f"caremap-demo:{seed}:{part}")


def birthday(birth: dt.date, age: int) -> dt.date:
    """The day someone born on ``birth`` reaches ``age`` full years (29 February: 1 March)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return dt.date(birth.year + age, 3, 1)


def birth_for_age(rng: random.Random, today: dt.date, age: int) -> dt.date:
    """A birth date on which someone is exactly ``age`` full years old on ``today``."""
    latest = years_before(today, age)
    earliest = years_before(today, age + 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))


def id_number(region: str, birth: dt.date, sequence: int) -> str:
    """An 18-character GB 11643 number; ``sequence`` (0-999) is odd for men, even for women."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + ids.check_digit(first17)


def village_counts(
    rng: random.Random, townships: int, low: int = 18, high: int = 32, total: tuple[int, int] = (285, 315)
) -> list[int]:
    """Villages per township, each in [low, high], summing to about 300."""
    counts = [rng.randint(low, high) for _ in range(townships)]
    while sum(counts) < total[0]:
        i = rng.randrange(townships)
        counts[i] = min(high, counts[i] + 1)
    while sum(counts) > total[1]:
        i = rng.randrange(townships)
        counts[i] = max(low, counts[i] - 1)
    return counts


@functools.cache
def _cumulative(options: tuple[tuple[Any, int], ...]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    return tuple(value for value, _ in options), tuple(itertools.accumulate(weight for _, weight in options))


def _weighted(rng: random.Random, options: tuple[tuple[Any, int], ...]) -> Any:
    # Called millions of times for a large county: one random() and a bisect, not rng.choices.
    values, cumulative = _cumulative(options)
    return values[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _at(day: dt.date, minutes: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))


def _working_minutes(rng: random.Random) -> int:
    # Morning 08:30-11:50 or afternoon 14:00-17:30: nobody is visited over lunch.
    roll = rng.random()
    if roll < 0.55:
        return 510 + int(roll / 0.55 * 200)
    return 840 + int((roll - 0.55) / 0.45 * 210)


Box = tuple[tuple[float, float], tuple[float, float]]  # a county's map box: (lat range, lon range)


@dataclass(frozen=True)
class DemoCounty:
    """One county of the demo: its place in the city, code, name, seed, residents and map box."""

    index: int
    code: str
    name: str
    seed: int
    residents: int
    box: Box
    parent: str | None

    @property
    def short_name(self) -> str:
        """The name without the demo mark (青山县)."""
        return self.name.split("（", maxsplit=1)[0]

    def username(self, name: str) -> str:
        """County 0's logins keep their plain names; county k's carry ``ck_`` before them."""
        return name if self.index == 0 else f"c{self.index}_{name}"


@dataclass(slots=True, eq=False)
class _Village:
    code: str
    name: str
    township: _Township
    index: int
    lat: float
    lon: float
    hamlets: list[tuple[float, float]]


@dataclass(slots=True, eq=False)
class _Township:
    code: str
    name: str
    lat: float
    lon: float
    villages: list[_Village] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _Enrollment:
    id: int
    group: str
    subtype: str
    facts: dict[str, Any]
    start: dt.date
    end: dt.date | None = None
    exit_reason: str | None = None
    exit_note: str = ""
    risk: str = "low"
    interval: int = 30
    # (worker id, from, to or None) in date order; gaps mean nobody was responsible.
    segments: list[tuple[int, dt.date, dt.date | None]] = field(default_factory=list)
    joined_to: _Enrollment | None = None


@dataclass(slots=True, eq=False)
class _Person:
    id: int
    kind: str
    village: _Village
    also_disabled: bool = False
    pinned: bool = False
    ending: str | None = None
    prior: bool = False
    ageing_out: bool = False
    child_subtype: str = ""
    birth: dt.date = dt.date(2000, 1, 1)
    sex: str = "F"
    id_number: str = ""
    name: str = ""
    status: str = "active"
    enrollments: list[_Enrollment] = field(default_factory=list)
    home: _Household | None = None
    relation: str = "head"
    # Own address, latitude and longitude (the household's are its head's), and registration time.
    place: tuple[str, float | None, float | None] = ("", None, None)
    created: dt.datetime = dt.datetime(2000, 1, 1)


@dataclass(slots=True, eq=False)
class _Household:
    head: _Person
    members: list[_Person] = field(default_factory=list)
    id: int = 0
    hukou_no: str = ""
    room: int = 0  # grandchildren still to join


@dataclass(slots=True, eq=False)
class _Workers:
    child: dict[str, list[int]] = field(default_factory=dict)
    elderly: dict[str, int] = field(default_factory=dict)
    rehab: dict[str, list[int]] = field(default_factory=dict)
    coordinator: int = 0


class _Ids:
    """Primary keys handed out in order, starting after whatever the table already holds."""

    def __init__(self, after: int) -> None:
        self.last = after

    def take(self) -> int:
        self.last += 1
        return self.last


class _BuilderBase:
    """What every part of the builder shares: the session, the county, its day, the id counters and the writer."""

    session: Session
    county: DemoCounty
    code: str
    seed: int
    today: dt.date
    now: dt.datetime
    fake: Faker
    visits: int
    write: Writer
    taken: set[str]
    ids: dict[str, _Ids]

    def _insert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        self.write(model, rows)

    @staticmethod
    def _offset(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
        # Uniform over a disc: the square root keeps points from bunching at the centre.
        r = km * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        return lat + r * math.sin(angle) / KM_PER_DEG_LAT, lon + r * math.cos(angle) / KM_PER_DEG_LON
