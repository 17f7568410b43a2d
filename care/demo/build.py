"""A deterministic synthetic county (青山县（演示）): areas, residents and their households, workers,
visits and demo logins; or a city (州) of several such counties side by side.

Run as ``python -m care.demo --db URL --residents N --seed S [--counties C]``; each step is reported
on standard error and the last line printed is the summary as JSON. The same residents count, seed,
counties and date always give the same data; county 0 of a city is the single demo county built
with the same seed and county 0's share of the residents.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import functools
import hashlib
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from faker import Faker
from sqlalchemy import Engine, Integer, Table, bindparam, case, func, insert, literal, null, select, text, update
from sqlalchemy.orm import Session

from care.auth import hash_password
from care.demo.plans import build_plans_and_orders
from care.demo.rows import Writer, row_writer
from care.domain import clock, enums, ids, policy, rules
from care.domain.rules import years_before
from care.i18n import DEFAULT_LANG, LANGS, t
from care.queries.demo import ACCOUNTS_SETTING, DEMO_SETTING
from care.queries.households import DISABLED_ELDERLY, LARGE_SELECTION
from care.services.due import SETTING_RISKS_REFRESHED, ensure_default_policy, refresh_due_dates, refresh_risks
from care.services.service_list import seed_default_services
from db.migrate import upgrade
from db.models import (
    Area,
    Assignment,
    Base,
    ChildDetails,
    DisabledDetails,
    ElderlyDetails,
    Enrollment,
    Household,
    HouseholdMember,
    Need,
    Pairing,
    Person,
    Provider,
    RiskChange,
    Setting,
    User,
    Visit,
    VisitEnrollment,
    Worker,
    new_ref,
)
from db.session import get_engine, transaction

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

PASSWORD_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PASSWORD_LOWER = "abcdefghijkmnpqrstuvwxyz"
PASSWORD_DIGITS = "23456789"
PASSWORD_SYMBOLS = "!@#%&*?-+="
PASSWORD_LENGTH = 14


class DemoRefused(ValueError):
    """The database is not empty, so the demo county is not built into it."""


# --- pure helpers -------------------------------------------------------------------------------


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


def demo_password(rng: random.Random, username: str) -> str:
    """A password with upper, lower, digit and symbol characters that does not contain ``username``."""
    while True:
        chars = [
            rng.choice(PASSWORD_UPPER),
            rng.choice(PASSWORD_LOWER),
            rng.choice(PASSWORD_DIGITS),
            rng.choice(PASSWORD_SYMBOLS),
        ]
        pool = PASSWORD_UPPER + PASSWORD_LOWER + PASSWORD_DIGITS + PASSWORD_SYMBOLS
        chars += [rng.choice(pool) for _ in range(PASSWORD_LENGTH - len(chars))]
        rng.shuffle(chars)
        password = "".join(chars)
        if username.lower() not in password.lower():
            return password


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


# --- a city of counties --------------------------------------------------------------------------

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


def demo_county_code(index: int) -> str:
    """County ``index`` of the demo city: 522699000000, 522698000000, ..."""
    return f"5226{99 - index:02d}000000"


def county_seed(seed: int, index: int) -> int:
    """County 0 is built with the city's seed; every other county with its own, fixed by both."""
    if index == 0:
        return seed
    digest = hashlib.sha256(f"caremap-demo-city:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def county_shares(residents: int, counties: int) -> list[int]:
    """Residents per county: an even split, the remainder to the first."""
    share, rest = divmod(residents, counties)
    return [share + rest] + [share] * (counties - 1)


def county_box(index: int, counties: int) -> Box:
    """County ``index``'s map box: rows of boxes going east, then south, from county 0's."""
    columns = math.ceil(math.sqrt(counties))
    row, column = divmod(index, columns)
    lat = (round(LAT_RANGE[0] - row * BOX_STEP, 6), round(LAT_RANGE[1] - row * BOX_STEP, 6))
    lon = (round(LON_RANGE[0] + column * BOX_STEP, 6), round(LON_RANGE[1] + column * BOX_STEP, 6))
    return (lat, lon) if index else (LAT_RANGE, LON_RANGE)


def demo_counties(residents: int, seed: int, counties: int = 1) -> list[DemoCounty]:
    """The counties a demo of this size builds, in the order they are built."""
    parent = CITY_CODE if counties > 1 else None
    return [
        DemoCounty(k, demo_county_code(k), name, county_seed(seed, k), share, county_box(k, counties), parent)
        for k, (name, share) in enumerate(zip(COUNTY_NAMES, county_shares(residents, counties), strict=False))
    ]


# --- boundaries: a jittered grid of townships, Voronoi cells of villages inside each ----------------

BOUNDARY_STEPS = 6  # lattice points per township edge
BOUNDARY_JITTER = 0.3  # of a lattice step: keeps every village (6% or more from an edge) inside


def _lattice(seed: int, box: Box) -> list[list[tuple[float, float]]]:
    rng = demo_rng(seed, "boundaries")
    (south, north), (west, east) = box
    rows, cols = GRID_ROWS * BOUNDARY_STEPS, GRID_COLS * BOUNDARY_STEPS
    step_lat = (north - south) / rows
    step_lon = (east - west) / cols
    return [
        [
            (
                north - r * step_lat + rng.uniform(-BOUNDARY_JITTER, BOUNDARY_JITTER) * step_lat,
                west + c * step_lon + rng.uniform(-BOUNDARY_JITTER, BOUNDARY_JITTER) * step_lon,
            )
            for c in range(cols + 1)
        ]
        for r in range(rows + 1)
    ]


def _cell_outline(lattice: list[list[tuple[float, float]]], row: int, col: int) -> list[tuple[float, float]]:
    k = BOUNDARY_STEPS
    r0, r1, c0, c1 = row * k, (row + 1) * k, col * k, (col + 1) * k
    ring = [lattice[r0][c] for c in range(c0, c1)]
    ring += [lattice[r][c1] for r in range(r0, r1)]
    ring += [lattice[r1][c] for c in range(c1, c0, -1)]
    ring += [lattice[r][c0] for r in range(r1, r0, -1)]
    return ring


def _clip(
    ring: list[tuple[float, float]], keep: tuple[float, float], other: tuple[float, float]
) -> list[tuple[float, float]]:
    # Sutherland-Hodgman against the half-plane nearer ``keep`` than ``other`` (lon scaled to km).
    scale = KM_PER_DEG_LON / KM_PER_DEG_LAT
    my, mx = (keep[0] + other[0]) / 2, (keep[1] + other[1]) / 2 * scale
    ny, nx = other[0] - keep[0], (other[1] - keep[1]) * scale

    def side(p: tuple[float, float]) -> float:
        return (p[0] - my) * ny + (p[1] * scale - mx) * nx

    out: list[tuple[float, float]] = []
    for i, p in enumerate(ring):
        q = ring[(i + 1) % len(ring)]
        sp, sq = side(p), side(q)
        if sp <= 0:
            out.append(p)
        if (sp <= 0) != (sq <= 0):
            t = sp / (sp - sq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def _polygon(ring: list[tuple[float, float]]) -> str:
    coords = [[round(lon, 5), round(lat, 5)] for lat, lon in ring]
    return json.dumps({"type": "Polygon", "coordinates": [[*coords, coords[0]]]}, separators=(",", ":"))


def demo_boundaries(
    seed: int, villages: list[list[tuple[float, float, str]]], box: Box = (LAT_RANGE, LON_RANGE)
) -> dict[str, str]:
    """GeoJSON polygons: township i (as "i") is a jittered grid cell of the county's box; each village
    its Voronoi cell in it."""
    lattice = _lattice(seed, box)
    shapes: dict[str, str] = {}
    for i, members in enumerate(villages):
        outline = _cell_outline(lattice, i // GRID_COLS, i % GRID_COLS)
        shapes[str(i)] = _polygon(outline)
        for lat, lon, code in members:
            cell = outline
            for other_lat, other_lon, other in members:
                if other != code and cell:
                    cell = _clip(cell, (lat, lon), (other_lat, other_lon))
            if len(cell) >= 3:
                shapes[code] = _polygon(cell)
    return shapes


# --- the plan held in memory --------------------------------------------------------------------


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


# --- the builder -------------------------------------------------------------------------------


class _Builder:
    """Plans one county in memory and writes it table by table inside the caller's transaction.

    Its ids start after whatever the tables already hold (the counties built before it), and it
    draws no ID number in ``taken`` (those of the counties before it), so that each county's
    random streams are its own and county 0 of a city is the single demo county.
    """

    def __init__(self, session: Session, county: DemoCounty, *, today: dt.date, write: Writer, taken: set[str]) -> None:
        self.session = session
        self.county = county
        self.code = county.code
        self.seed = county.seed
        self.today = today
        self.now = clock.now()
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(county.seed)
        self.visits = 0
        self.write = write
        self.taken = taken
        self.ids = {
            model.__tablename__: _Ids(session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0)
            for model in (Person, Enrollment, Worker, User, Assignment, Visit, Need, Household, HouseholdMember)
        }

    def _insert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        self.write(model, rows)

    def build(self, progress: Progress) -> dict[str, Any]:
        """Write the county's rows; its summary (persons, townships, villages, visits, accounts and
        the range of its persons' ids)."""
        residents = self.county.residents
        first_person = self.ids["persons"].last + 1
        progress("areas")
        townships = self._areas()
        villages = [v for t in townships for v in t.villages]
        workers = self._workers(townships)
        accounts = self._users(townships, workers)
        progress("persons")
        persons = self._persons(residents, townships)
        self._assign(persons, workers)
        progress("registers")
        self._insert_registers(persons)
        progress("visits")
        self._visits(persons, workers.coordinator)
        return {
            "persons": residents,
            "townships": len(townships),
            "villages": len(villages),
            "visits": self.visits,
            "county_code": self.code,
            "accounts": accounts,
            "person_ids": (first_person, self.ids["persons"].last),
        }

    # areas ---------------------------------------------------------------------------------

    def _areas(self) -> list[_Township]:
        rng = demo_rng(self.seed, "areas")
        counts = village_counts(rng, len(TOWNSHIPS))
        (south, north), (west, east) = self.county.box
        cell_lat = (north - south) / GRID_ROWS
        cell_lon = (east - west) / GRID_COLS
        used: set[str] = set()
        townships: list[_Township] = []
        for i, ((name, digits), count) in enumerate(zip(self._township_names(), counts, strict=True)):
            # Row 0 is the northern edge; each township gets one jittered cell of the grid.
            lat0 = north - (i // GRID_COLS + 1) * cell_lat
            lon0 = west + (i % GRID_COLS) * cell_lon
            town = _Township(
                code=f"{self.code[:6]}{digits}000",
                name=name,
                lat=round(lat0 + cell_lat * rng.uniform(0.35, 0.65), 6),
                lon=round(lon0 + cell_lon * rng.uniform(0.35, 0.65), 6),
            )
            communities = 2 if digits.startswith("1") and rng.random() < 0.6 else 1
            names = rng.sample(COMMUNITY_NAMES, communities)
            for j in range(count):
                if j < communities:
                    code = f"{town.code[:9]}{j + 1:03d}"
                    vname = f"{names[j]}社区"
                    lat = town.lat + cell_lat * rng.uniform(-0.06, 0.06)
                    lon = town.lon + cell_lon * rng.uniform(-0.06, 0.06)
                else:
                    code = f"{town.code[:9]}{201 + j - communities:03d}"
                    vname = self._village_name(rng, used)
                    lat = lat0 + cell_lat * rng.uniform(0.06, 0.94)
                    lon = lon0 + cell_lon * rng.uniform(0.06, 0.94)
                hamlets = [self._offset(rng, lat, lon, 1.0) for _ in range(rng.randint(3, 9))]
                town.villages.append(_Village(code, vname, town, j, round(lat, 6), round(lon, 6), hamlets))
            townships.append(town)
        self._insert_areas(townships)
        return townships

    def _township_names(self) -> tuple[tuple[str, str], ...]:
        """County 0's townships are TOWNSHIPS; another county's have names of their own, same digits."""
        if self.county.index == 0:
            return TOWNSHIPS
        rng = demo_rng(self.seed, "townships")
        names: list[tuple[str, str]] = []
        used: set[str] = set()
        for _, digits in TOWNSHIPS:
            name = ""
            while not name or name in used:
                name = rng.choice(VILLAGE_HEADS) + rng.choice(TOWNSHIP_TAILS)
            used.add(name)
            names.append((name + ("镇" if digits.startswith("1") else "乡"), digits))
        return tuple(names)

    @staticmethod
    def _village_name(rng: random.Random, used: set[str]) -> str:
        while True:
            name = rng.choice(VILLAGE_HEADS) + rng.choice(VILLAGE_TAILS)
            if name not in used and name[0] != name[1]:
                used.add(name)
                return name + "村"

    @staticmethod
    def _offset(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
        # Uniform over a disc: the square root keeps points from bunching at the centre.
        r = km * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        return lat + r * math.sin(angle) / KM_PER_DEG_LAT, lon + r * math.cos(angle) / KM_PER_DEG_LON

    def _insert_areas(self, townships: list[_Township]) -> None:
        box = self.county.box
        centre_lat = round(sum(box[0]) / 2, 6)
        centre_lon = round(sum(box[1]) / 2, 6)
        villages = [[(v.lat, v.lon, v.code) for v in t.villages] for t in townships]
        shapes = demo_boundaries(self.seed, villages, box)
        rows = [_area_row(self.code, self.county.name, "county", self.county.parent, centre_lat, centre_lon)]
        rows += [_area_row(t.code, t.name, "township", self.code, t.lat, t.lon) for t in townships]
        rows += [_area_row(v.code, v.name, "village", t.code, v.lat, v.lon) for t in townships for v in t.villages]
        for i, r in enumerate(rows):
            r["boundary"] = shapes.get(r["code"]) or shapes.get(str(i - 1) if r["level"] == "township" else "")
        self._insert(Area, rows[: 1 + len(townships)])
        self._insert(Area, rows[1 + len(townships) :])

    # workers and logins ---------------------------------------------------------------------

    def _workers(self, townships: list[_Township]) -> _Workers:
        rng = demo_rng(self.seed, "workers")
        ids_ = self.ids["workers"]
        rows: list[dict[str, Any]] = []
        found = _Workers()
        first_villages = townships[0].villages[:2]

        def add(kind: str, area: str, lat: float, lon: float, *, keep_office: bool = False) -> int:
            wid = ids_.take()
            # A few offices were never located on the map.
            located = keep_office or rng.random() >= 0.01
            rows.append(
                {
                    "id": wid,
                    "name": self.fake.name(),
                    "kind": kind,
                    "phone": _mobile(rng),
                    "area_code": area,
                    "office_lat": lat if located else None,
                    "office_lon": lon if located else None,
                    "active": True,
                }
            )
            return wid

        for town in townships:
            for village in town.villages:
                first = village is first_villages[0]
                director = add("child_director", village.code, village.lat, village.lon, keep_office=first)
                found.child[village.code] = [director]
                found.elderly[village.code] = add("elderly_visitor", village.code, village.lat, village.lon)
            found.rehab[town.code] = [add("rehab_coordinator", town.code, town.lat, town.lon) for _ in range(2)]
            add("volunteer", town.code, town.lat, town.lon)
        # The demo coordinator covers the first two villages of the first township, each of
        # which also has a colleague, so scoping by assignment (not by village) shows.
        v1, v2 = first_villages
        found.coordinator = found.child[v1.code][0]
        found.child[v1.code].append(add("child_director", v1.code, v1.lat, v1.lon))
        found.child[v2.code].insert(0, found.coordinator)
        self._insert(Worker, rows)
        return found

    def _users(self, townships: list[_Township], workers: _Workers) -> list[dict[str, str]]:
        rng = demo_rng(self.seed, "accounts")
        first = townships[0]
        coordinator_name = self.session.scalar(select(Worker.name).where(Worker.id == workers.coordinator))
        county = self.county
        office = "县民政局（演示）" if county.index == 0 else f"{county.short_name}民政局（演示）"
        admin = "系统管理员（演示）" if county.index == 0 else f"{county.short_name}系统管理员（演示）"
        plan = (
            ("county", "county", self.code, office, None),
            ("township", "township", first.code, f"{first.name}督导员（演示）", None),
            ("coordinator", "coordinator", first.code, f"{coordinator_name}（儿童主任）", workers.coordinator),
            ("admin", "admin", self.code, admin, None),
        )
        accounts: list[dict[str, str]] = []
        rows: list[dict[str, Any]] = []
        for role, name, area, display, worker_id in plan:
            username = county.username(name)
            password = demo_password(rng, username)
            accounts.append({"role": role, "username": username, "password": password})
            user_id = self.ids["users"].take()
            rows.append(
                _user_row(
                    user_id,
                    username,
                    password,
                    role=role,
                    area=area,
                    display=display,
                    worker_id=worker_id,
                    now=self.now,
                )
            )
        self._insert(User, rows)
        return accounts

    # persons -------------------------------------------------------------------------------

    def _persons(self, residents: int, townships: list[_Township]) -> list[_Person]:
        rng = demo_rng(self.seed, f"persons:{residents}")
        villages = [v for t in townships for v in t.villages]
        n_child = round(residents * CHILD_SHARE)
        n_elderly = min(residents - n_child, round(residents * ELDERLY_SHARE))
        kinds = ["child"] * n_child + ["elderly"] * n_elderly + ["disabled"] * (residents - n_child - n_elderly)
        rng.shuffle(kinds)
        # Township seats (社区) are larger; village sizes vary a lot in hill country.
        weights = [1.8 if v.code[9] == "0" else rng.lognormvariate(0, 0.4) for v in villages]
        homes = rng.choices(villages, weights=weights, k=residents)
        persons = [_Person(self.ids["persons"].take(), kind, home) for kind, home in zip(kinds, homes, strict=True)]
        self._pin_coordinator_children(persons, townships[0].villages[:2])

        free = [i for i, p in enumerate(persons) if not p.pinned]
        for kind, share in (("child", CHILD_ALSO_DISABLED), ("elderly", ELDERLY_ALSO_DISABLED)):
            group = [i for i, p in enumerate(persons) if p.kind == kind]
            for i in rng.sample(group, round(len(group) * share)):
                persons[i].also_disabled = True
        ended = rng.sample(free, min(len(free), max(4, round(residents * ENDED_SHARE))))
        for i in ended:
            persons[i].ending = _weighted(rng, EXIT_WEIGHTS[persons[i].kind])
        rest = [i for i in free if persons[i].ending is None]
        for i in rng.sample(rest, min(len(rest), max(2, round(residents * PRIOR_EPISODE_SHARE)))):
            persons[i].prior = True
        children = [i for i in rest if persons[i].kind == "child" and not persons[i].prior]
        for i in rng.sample(children, min(len(children), max(3, round(n_child * AGEING_OUT_SHARE)))):
            persons[i].ageing_out = True

        for person in persons:
            self._identity(rng, person, self.taken)
            self._enroll(rng, person)
        households = self._households(residents, persons)
        self._family_risks(households)
        self._insert_persons(rng, persons)
        self._insert_households(households)
        return persons

    @staticmethod
    def _pin_coordinator_children(persons: list[_Person], villages: list[_Village]) -> None:
        # Small demos spread few people over 300 villages: move enough children into the
        # coordinator's two villages that each colleague has a caseload there.
        for village, wanted in zip(villages, (6, 4), strict=True):
            here = [p for p in persons if p.kind == "child" and p.village is village]
            movable = (p for p in reversed(persons) if p.kind == "child" and p.village not in villages and not p.pinned)
            while len(here) < wanted:
                mover = next(movable, None)
                if mover is None:
                    break
                mover.village = village
                here.append(mover)
            for p in here:
                p.pinned = True

    def _age(self, rng: random.Random, person: _Person) -> dt.date:
        today = self.today
        if person.kind == "child":
            # The sub-type comes first: it sets the age limit (a 困境 child may be 16 or 17).
            person.child_subtype = _weighted(rng, CHILD_SUBTYPES)
            limit = rules.child_age_limit(person.child_subtype)
            if person.ending == "aged_out":
                reached = today - dt.timedelta(days=rng.randint(7, 330))
                return years_before(reached, limit)
            if person.ageing_out:
                reaches = today + dt.timedelta(days=rng.randint(1, 90))
                birth = years_before(reaches, limit)
                if ids.age_on(birth, today) == limit - 1:
                    return birth
            age = rng.randint(2 if person.also_disabled else 0, limit - 1)
            birth = birth_for_age(rng, today, age)
            # Newborns are registered after their first weeks.
            return min(birth, today - dt.timedelta(days=30))
        if person.kind == "elderly":
            age = min(98, max(enums.ELDERLY_MIN_AGE, round(rng.gauss(75, 8))))
            if person.ending == "died":
                age = max(age, rng.randint(75, 95))
            return birth_for_age(rng, today, age)
        roll = rng.random()
        if roll < 0.10:
            age = rng.randint(5, 17)
        elif roll < 0.88:
            age = round(rng.triangular(18, 59, 48))
        else:
            age = rng.randint(60, 90)
        return birth_for_age(rng, today, age)

    def _identity(self, rng: random.Random, person: _Person, taken: set[str]) -> None:
        birth = self._age(rng, person)
        age = ids.age_on(birth, self.today)
        male_share = {"child": 0.52, "disabled": 0.56}.get(person.kind, 0.42 if age >= 80 else 0.48)
        person.sex = "M" if rng.random() < male_share else "F"
        region = self.code[:6] if rng.random() < 0.9 else rng.choice(OTHER_REGIONS)
        while True:
            number = id_number(region, birth, rng.randrange(500) * 2 + (person.sex == "M"))
            if number not in taken:
                taken.add(number)
                break
        person.birth = birth
        person.id_number = number
        # Faker's zh_CN name_male()/name_female() mix genders; the given-name lists do not.
        given = self.fake.first_name_male() if person.sex == "M" else self.fake.first_name_female()
        person.name = self.fake.last_name() + given

    # enrollments ---------------------------------------------------------------------------

    def _start(self, rng: random.Random, person: _Person, group: str) -> dt.date:
        today = self.today
        earliest = max(years_before(today, 6), person.birth)
        if group == "elderly":
            earliest = max(earliest, birthday(person.birth, enums.ELDERLY_MIN_AGE))
        latest = years_before(today, 1)
        if latest < earliest:
            # Young children and new sixty-year-olds joined within the last year.
            latest = max(earliest, today - dt.timedelta(days=7))
        return earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))

    def _new_enrollment(self, rng: random.Random, person: _Person, group: str) -> _Enrollment:
        start = self._start(rng, person, group)
        age = ids.age_on(person.birth, self.today)
        if group == "child":
            subtype = person.child_subtype or _weighted(rng, CHILD_SUBTYPES)
            facts = self._child_facts(rng, subtype, age)
        elif group == "elderly":
            table = ELDERLY_SUBTYPES_DISABLED if person.also_disabled else ELDERLY_SUBTYPES
            subtype = _weighted(rng, table)
            facts = self._elderly_facts(rng, subtype, age)
        else:
            subtype = "certified" if rng.random() < 0.85 else "uncertified"
            facts = self._disabled_facts(rng, person, subtype)
        return _Enrollment(self.ids["enrollments"].take(), group, subtype, facts, start)

    def _enroll(self, rng: random.Random, person: _Person) -> None:
        primary = self._new_enrollment(rng, person, person.kind)
        person.enrollments.append(primary)
        if person.also_disabled:
            person.enrollments.append(self._new_enrollment(rng, person, "disabled"))
        if person.ending:
            self._end(rng, person, primary)
        if person.prior:
            self._prior_episode(rng, person, primary)
        for enrollment in person.enrollments:
            self._rate(person, enrollment, rules.NO_FAMILY)

    def _rate(self, person: _Person, enrollment: _Enrollment, family: rules.Family) -> None:
        on = self.today if enrollment.end is None else enrollment.end - dt.timedelta(days=1)
        age = ids.age_on(person.birth, max(on, person.birth))
        level = rules.compute_risk(enrollment.group, enrollment.subtype, enrollment.facts, age, family).level
        enrollment.risk = level
        enrollment.interval = policy.DEFAULT_INTERVALS[(enrollment.group, level)]

    def _end(self, rng: random.Random, person: _Person, primary: _Enrollment) -> None:
        reason = person.ending or "other"
        if reason == "aged_out":
            end = birthday(person.birth, rules.child_age_limit(primary.subtype))
        else:
            end = self.today - dt.timedelta(days=rng.randint(7, 330))
        # Dying or moving away ends every register the person is on, on the same day.
        ending = person.enrollments if reason in PERSON_ENDING else [primary]
        latest_start = max(e.start for e in ending)
        if end <= latest_start:
            end = latest_start + dt.timedelta(days=max(1, (self.today - latest_start).days // 2))
        for enrollment in ending:
            enrollment.end = end
            enrollment.exit_reason = reason
            enrollment.exit_note = rng.choice(EXIT_NOTES) if reason == "other" else ""
        if reason in PERSON_ENDING:
            person.status = PERSON_ENDING[reason]
        elif all(e.end is not None for e in person.enrollments):
            person.status = "exited"

    def _prior_episode(self, rng: random.Random, person: _Person, current: _Enrollment) -> None:
        end = current.start - dt.timedelta(days=rng.randint(30, 300))
        start = end - dt.timedelta(days=rng.randint(120, 900))
        floor = person.birth
        if current.group == "elderly":
            floor = birthday(person.birth, enums.ELDERLY_MIN_AGE)
        start = max(start, floor, years_before(self.today, 8))
        if (end - start).days < 60:
            return
        earlier = _Enrollment(
            self.ids["enrollments"].take(),
            current.group,
            current.subtype,
            dict(current.facts),
            start,
            end,
            PRIOR_EXIT_REASONS[current.group],
        )
        person.enrollments.insert(0, earlier)

    def _child_facts(self, rng: random.Random, subtype: str, age: int) -> dict[str, Any]:
        guardianship = _weighted(rng, GUARDIANSHIP_BY_SUBTYPE[subtype])
        if age <= 2:
            schooling = "not_school_age"
        elif age <= 5:
            schooling = "preschool" if rng.random() < 0.8 else "not_school_age"
        elif age <= 11:
            schooling = "primary"
        elif age <= 14:
            schooling = "junior" if rng.random() < 0.985 else "out_of_school"
        else:
            schooling = _weighted(rng, (("junior", 30), ("senior", 35), ("vocational", 25), ("out_of_school", 10)))
        boarding_share = {"junior": 0.55, "senior": 0.6, "vocational": 0.6}.get(schooling, 0.0)
        if schooling == "primary" and age >= 9:
            boarding_share = 0.15
        has_guardian = guardianship != "none"
        workplace = ""
        if subtype == "left_behind":
            workplace = rng.choice(WORKPLACES)
            if guardianship == "one_parent":
                workplace = f"{rng.choice(('父亲', '母亲'))}：{workplace}"
        return {
            "local_subtype": "",
            "guardianship": guardianship,
            "poor_guardianship": has_guardian and rng.random() < 0.05,
            "guardian_name": self.fake.name() if has_guardian else "",
            "guardian_phone": _mobile(rng) if has_guardian and rng.random() < 0.95 else "",
            "parents_workplace": workplace,
            "schooling": schooling,
            "boarding": rng.random() < boarding_share,
        }

    def _elderly_facts(self, rng: random.Random, subtype: str, age: int) -> dict[str, Any]:
        living = _weighted(rng, LIVING_BY_SUBTYPE[subtype])
        if subtype == "disabled_elderly":
            self_care = "partial" if rng.random() < 0.6 else "none"
        elif subtype == "severe_disabled":
            self_care = "none" if rng.random() < 0.6 else "partial"
        elif age >= 85:
            self_care = _weighted(rng, (("full", 60), ("partial", 35), ("none", 5)))
        else:
            self_care = _weighted(rng, (("full", 88), ("partial", 11), ("none", 1)))
        contact = ""
        if subtype != "special_family":
            relation = rng.choice(("儿子", "女儿"))
            contact = f"{relation} {self.fake.name()} {_mobile(rng)}（{rng.choice(WORKPLACES)}）"
        return {"living_arrangement": living, "self_care": self_care, "children_contact": contact}

    def _disabled_facts(self, rng: random.Random, person: _Person, subtype: str) -> dict[str, Any]:
        weights = CATEGORY_WEIGHTS[person.kind]
        category = rng.choices(enums.DISABILITY_CATEGORIES, weights=weights)[0]
        grade = rng.choices(enums.DISABILITY_GRADES, weights=GRADE_WEIGHTS)[0]
        certificate = f"{person.id_number}{category}{grade}" if subtype == "certified" else None
        devices = ""
        if category in DEVICES and rng.random() < 0.5:
            devices = rng.choice(DEVICES[category])
        return {
            "category": category,
            "grade": grade,
            "certificate_no": certificate,
            "rehab_needs": rng.choice(REHAB_NEEDS[category]) if rng.random() < 0.4 else "",
            "assistive_devices": devices,
        }

    # households ----------------------------------------------------------------------------

    def _households(self, residents: int, persons: list[_Person]) -> list[_Household]:
        """Every person in exactly one household: relatives of one village together, the rest alone."""
        rng = demo_rng(self.seed, f"households:{residents}")
        by_village: dict[str, list[_Person]] = {}
        for person in persons:
            by_village.setdefault(person.village.code, []).append(person)
        for people in by_village.values():
            self._village_households(rng, people)
        households: list[_Household] = []
        numbers: dict[str, int] = {}
        for person in persons:
            if person.home is None:
                person.home = _Household(person, [person])
            home = person.home
            if home.id:
                continue
            home.id = self.ids["households"].take()
            village = home.head.village.code
            if rng.random() < HUKOU_SHARE and numbers.get(village, 0) < 999:
                # 户号: the township and village digits of the village code and a number within it.
                numbers[village] = numbers.get(village, 0) + 1
                home.hukou_no = f"{village[6:]}{numbers[village]:03d}"
            households.append(home)
        return households

    def _village_households(self, rng: random.Random, people: list[_Person]) -> None:
        """Disabled adults with their elderly parents, grandparents with left-behind grandchildren,
        elderly couples; only persons on a register today, all of one village."""
        elders = [p for p in people if _living(p) in FAMILY_LIVING]
        rng.shuffle(elders)
        for adult in people:
            if adult.kind != "disabled" or _active(adult, "disabled") is None:
                continue
            if not enums.ADULT_AGE <= ids.age_on(adult.birth, self.today) < enums.ELDERLY_MIN_AGE:
                continue
            if rng.random() >= DISABLED_WITH_PARENTS_SHARE:
                continue
            parent = _take(
                elders, (p for p in elders if _living(p) == "with_relatives" and _gap_in(p, adult, PARENT_GAP))
            )
            if parent is None:
                continue
            parents = [parent]
            if rng.random() < SECOND_PARENT_SHARE:
                other = _take(elders, (p for p in elders if _spouses(parent, p) and _gap_in(p, adult, PARENT_GAP)))
                if other is not None:
                    parents.append(other)
            home = _new_home(parents)
            _join(home, adult, "child")

        with_grandchildren: list[_Household] = []
        for child in people:
            enrollment = _active(child, "child")
            if enrollment is None or enrollment.facts.get("guardianship") != "grandparent":
                continue
            siblings = next((h for h in with_grandchildren if _room_for(h, child)), None)
            if siblings is not None:
                _join(siblings, child, "grandchild")
                siblings.room -= 1
                if not siblings.room:
                    with_grandchildren.remove(siblings)
                continue
            if rng.random() >= GRANDPARENT_REGISTERED_SHARE:
                continue
            # The youngest grandparent who fits: the oldest elders seldom raise a small child.
            head = _take_youngest(
                elders,
                [p for p in elders if _subtype(p) in GRANDPARENT_SUBTYPES and _gap_in(p, child, GRANDPARENT_GAP)],
            )
            if head is None:
                continue
            grandparents = [head]
            if _living(head) == "with_spouse" and rng.random() < SECOND_GRANDPARENT_SHARE:
                spouse = _take(
                    elders,
                    (
                        p
                        for p in elders
                        if _spouses(head, p)
                        and _subtype(p) in GRANDPARENT_SUBTYPES
                        and _older_by(p, child) >= GRANDPARENT_GAP[0]
                    ),
                )
                if spouse is not None:
                    grandparents.append(spouse)
            home = _new_home(grandparents)
            _join(home, child, "grandchild")
            home.room = _weighted(rng, GRANDCHILDREN) - 1
            if home.room:
                with_grandchildren.append(home)

        for husband in list(elders):
            if husband.home is not None or husband.sex != "M" or _living(husband) != "with_spouse":
                continue
            if rng.random() >= COUPLE_SHARE:
                continue
            wife = _take(elders, (p for p in elders if _spouses(husband, p) and _living(p) == "with_spouse"))
            if wife is not None:
                elders.remove(husband)
                _new_home([husband, wife])

    def _family_risks(self, households: list[_Household]) -> None:
        """The family rules (care.queries.households.family_of) on the active enrollments of every
        household of two or more; its members are all on a register today."""
        for home in households:
            if len(home.members) < 2:
                continue
            ages = {m: ids.age_on(m.birth, self.today) for m in home.members}
            active = {m: [e for e in m.enrollments if e.end is None] for m in home.members}
            disabled = {
                m
                for m, enrollments in active.items()
                if any(
                    e.group == "disabled" or (e.group == "elderly" and e.subtype in DISABLED_ELDERLY)
                    for e in enrollments
                )
            }
            all_in_care = all(active.values())
            for person in home.members:
                adults = [m for m in home.members if m is not person and ages[m] >= enums.ADULT_AGE]
                frail = bool(adults) and all(ages[m] >= enums.FRAIL_GUARDIAN_AGE or m in disabled for m in adults)
                family = rules.Family(frail_guardians=ages[person] < enums.ADULT_AGE and frail, all_in_care=all_in_care)
                for enrollment in active[person]:
                    self._rate(person, enrollment, family)

    # assignments ---------------------------------------------------------------------------

    def _assign(self, persons: list[_Person], workers: _Workers) -> None:
        rng = demo_rng(self.seed, f"assign:{len(persons)}")
        turn: dict[str, int] = {}
        # Children of one household have one director, who visits them together.
        by_home: dict[int, int] = {}
        for person in persons:
            village = person.village
            directors = workers.child[village.code]
            # Villages with two directors split their children (by household) between them.
            k = turn.get(village.code, 0)
            family = id(person.home) if person.home is not None else None
            director = by_home.get(family) if family is not None else None
            if director is None:
                director = directors[k % len(directors)]
                if person.kind == "child":
                    turn[village.code] = k + 1
                    if family is not None:
                        by_home[family] = director
            home = {
                "child": director,
                "elderly": workers.elderly[village.code],
                "disabled": workers.rehab[village.township.code][village.index % 2],
            }
            main = next((e for e in person.enrollments if e.group == person.kind and e.end is None), None)
            for enrollment in person.enrollments:
                worker = home[enrollment.group]
                # A disabled child or elder is often followed by the same visitor, one visit
                # covering both registers.
                if (
                    enrollment.group != person.kind
                    and main is not None
                    and enrollment.end is None
                    and rng.random() < JOINT_SHARE
                ):
                    worker = home[main.group]
                    enrollment.joined_to = main
                enrollment.segments = [(worker, enrollment.start, enrollment.end)]
        self._reassign(rng, persons, workers)

    def _reassign(self, rng: random.Random, persons: list[_Person], workers: _Workers) -> None:
        candidates = [
            e
            for p in persons
            if not p.pinned
            for e in p.enrollments
            if e.end is None and e.joined_to is None and not any(o.joined_to is e for o in p.enrollments)
        ]
        picked = rng.sample(candidates, round(len(candidates) * (HISTORY_SHARE + UNASSIGNED_SHARE)))
        n_unassigned = round(len(candidates) * UNASSIGNED_SHARE)
        owner = {e.id: p for p in persons for e in p.enrollments}
        for k, enrollment in enumerate(picked):
            worker, start, _ = enrollment.segments[0]
            if k < n_unassigned:
                # The responsible worker left and nobody has taken the case over yet.
                if (self.today - start).days > 90:
                    left = self.today - dt.timedelta(days=rng.randint(20, 150))
                    enrollment.segments = [(worker, start, max(left, start + dt.timedelta(days=30)))]
                else:
                    enrollment.segments = []
                continue
            if (self.today - start).days < 90:
                continue
            switch = start + dt.timedelta(days=rng.randint(30, (self.today - start).days - 30))
            earlier = self._colleague(rng, owner[enrollment.id], enrollment.group, worker, workers)
            enrollment.segments = [(earlier, start, switch - dt.timedelta(days=1)), (worker, switch, None)]

    @staticmethod
    def _colleague(rng: random.Random, person: _Person, group: str, worker: int, workers: _Workers) -> int:
        town = person.village.township
        if group == "disabled":
            pool = workers.rehab[town.code]
        elif group == "child":
            pool = [w for v in town.villages for w in workers.child[v.code]]
        else:
            pool = [workers.elderly[v.code] for v in town.villages]
        others = [w for w in pool if w not in (worker, workers.coordinator)]
        return rng.choice(others) if others else worker

    # inserting registers -------------------------------------------------------------------

    def _insert_persons(self, rng: random.Random, persons: list[_Person]) -> None:
        for person in persons:
            village = person.village
            hamlet = rng.randrange(len(village.hamlets))
            at_lat, at_lon = self._offset(rng, *village.hamlets[hamlet], 0.35)
            located = rng.random() >= 0.02
            address = f"{village.township.name}{village.name}{hamlet + 1}组{rng.randint(1, 80)}号"
            person.place = (address, round(at_lat, 6) if located else None, round(at_lon, 6) if located else None)
            person.created = _at(min(e.start for e in person.enrollments), _working_minutes(rng))
        rows: list[dict[str, Any]] = []
        for person in persons:
            # Members of a household live at its head's address.
            address, lat, lon = person.home.head.place if person.home is not None else person.place
            phone = ""
            first = person.enrollments[0]
            if person.kind == "child":
                if rng.random() < 0.7:
                    phone = first.facts.get("guardian_phone", "")
            elif rng.random() < (0.85 if person.kind == "elderly" else 0.88):
                phone = _mobile(rng)
            created = person.created
            changed = person.status != "active"
            updated = _at(max(e.end or e.start for e in person.enrollments), 600) if changed else created
            rows.append(
                {
                    "id": person.id,
                    "ref": new_ref(),
                    "id_number": person.id_number,
                    "name": person.name,
                    "sex": person.sex,
                    "birth_date": person.birth,
                    "village_code": person.village.code,
                    "county_code": self.code,
                    "address": address,
                    "phone": phone,
                    "lat": lat,
                    "lon": lon,
                    "datum": "WGS84",
                    "status": person.status,
                    "notes": "",
                    "deleted": False,
                    "deleted_at": None,
                    "version": 2 if changed else 1,
                    "created_at": created,
                    "updated_at": max(created, updated),
                }
            )
            if len(rows) >= CHUNK:
                self._insert(Person, rows)
                rows = []
        self._insert(Person, rows)

    def _insert_households(self, households: list[_Household]) -> None:
        rows: list[dict[str, Any]] = []
        members: list[dict[str, Any]] = []

        def flush() -> None:
            self._insert(Household, rows)
            self._insert(HouseholdMember, members)
            rows.clear()
            members.clear()

        for home in households:
            address, lat, lon = home.head.place
            rows.append(
                {
                    "id": home.id,
                    "village_code": home.head.village.code,
                    "hukou_no": home.hukou_no,
                    "address": address,
                    "lat": lat,
                    "lon": lon,
                    "ended_on": None,
                    "merged_into": None,
                    "version": 1,
                    # Recorded with its first member on the registers; each member joined when registered.
                    "created_at": min(m.created for m in home.members),
                    "updated_at": max(m.created for m in home.members),
                }
            )
            members.extend(
                {
                    "id": self.ids["household_members"].take(),
                    "household_id": home.id,
                    "person_id": m.id,
                    "relation": m.relation,
                    "start_date": m.created.date(),
                    "end_date": None,
                }
                for m in home.members
            )
            if len(members) >= CHUNK:
                flush()
        flush()

    def _insert_registers(self, persons: list[_Person]) -> None:
        enrollments: list[dict[str, Any]] = []
        details: dict[str, list[dict[str, Any]]] = {"child": [], "elderly": [], "disabled": []}
        assignments: list[dict[str, Any]] = []
        tables: dict[str, type[Base]] = {"child": ChildDetails, "elderly": ElderlyDetails, "disabled": DisabledDetails}

        def flush() -> None:
            self._insert(Enrollment, enrollments)
            for group, rows in details.items():
                self._insert(tables[group], rows)
                rows.clear()
            self._insert(Assignment, assignments)
            enrollments.clear()
            assignments.clear()

        for person in persons:
            for e in person.enrollments:
                created = _at(e.start, 600)
                enrollments.append(
                    {
                        "id": e.id,
                        "person_id": person.id,
                        "county_code": self.code,
                        "group": e.group,
                        "subtype": e.subtype,
                        "start_date": e.start,
                        "end_date": e.end,
                        "exit_reason": e.exit_reason,
                        "exit_note": e.exit_note,
                        "risk_auto": e.risk,
                        "risk_override": None,
                        "risk_override_reason": "",
                        "risk": e.risk,
                        "last_visit_on": None,
                        "next_due_on": None,
                        "version": 1 if e.end is None else 2,
                        "created_at": created,
                        "updated_at": created if e.end is None else _at(e.end, 600),
                    }
                )
                details[e.group].append({"enrollment_id": e.id, **e.facts})
                for worker, start, end in e.segments:
                    assignments.append(
                        {
                            "id": self.ids["assignments"].take(),
                            "enrollment_id": e.id,
                            "worker_id": worker,
                            "start_date": start,
                            "end_date": end,
                            "created_by": None,
                        }
                    )
            if len(enrollments) >= CHUNK:
                flush()
        flush()

    # visits --------------------------------------------------------------------------------

    def _visits(self, persons: list[_Person], coordinator: int) -> None:
        rng = demo_rng(self.seed, f"visits:{len(persons)}")
        streams = [
            (p, [e] + [o for o in p.enrollments if o.joined_to is e])
            for p in persons
            for e in p.enrollments
            if e.joined_to is None
        ]
        with_needs = set(rng.sample(range(len(streams)), min(len(streams), max(12, round(len(persons) * NEED_SHARE)))))
        visits: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        needs: list[dict[str, Any]] = []
        last_exited: dict[int, dt.date] = {}
        # The demo coordinator always has a few visits behind, whatever the weekday, so that 我的巡访
        # has work on it to show.
        theirs = [k for k, (_, members) in enumerate(streams) if _current_worker(members[0]) == coordinator]
        kept_behind = set(theirs[:COORDINATOR_BEHIND])
        # The database takes each chunk of visits while the next is made.
        with self.write.overlapping():
            for k, (person, members) in enumerate(streams):
                done = self._stream(rng, person, members, visits, links, last_exited, behind=k in kept_behind)
                if k in with_needs and done:
                    # Most needs come from the latest rounds, so many are still open.
                    found_on = rng.choice(done[-3:]) if rng.random() < 0.7 else rng.choice(done)
                    needs.append(self._need(rng, person, members[0], found_on))
                if len(visits) >= CHUNK:
                    self._flush_visits(visits, links)
            self._flush_visits(visits, links)
        self._insert(Need, needs)
        # Exited enrollments keep the last visit they had; refresh_due_dates looks at active ones only.
        if last_exited:
            self.session.execute(
                update(cast(Table, Enrollment.__table__))
                .where(Enrollment.id == bindparam("eid"))
                .values(last_visit_on=bindparam("day")),
                [{"eid": eid, "day": day} for eid, day in last_exited.items()],
            )

    def _flush_visits(self, visits: list[dict[str, Any]], links: list[dict[str, Any]]) -> None:
        self._insert(Visit, visits)
        self._insert(VisitEnrollment, links)
        self.visits += len(visits)
        visits.clear()
        links.clear()

    def _schedule(
        self, rng: random.Random, first: dt.date, last_day: dt.date, interval: int, behind: bool
    ) -> list[dt.date]:
        """Counted visit days, oldest first, from ``first`` to ``last_day``."""
        if behind:
            last = last_day - dt.timedelta(days=interval + rng.randint(5, max(21, interval)))
        else:
            last = last_day - dt.timedelta(days=rng.randint(0, interval - 1))
        days: list[dt.date] = []
        day = last
        while day >= first:
            if day.weekday() >= 5 and rng.random() < 0.8:
                day -= dt.timedelta(days=day.weekday() - 4)
                if day < first:
                    break
            days.append(day)
            stretch = rng.uniform(1.1, 1.8) if rng.random() < 0.06 else rng.uniform(0.7, 1.0)
            day -= dt.timedelta(days=max(1, round(interval * stretch)))
        days.reverse()
        return days

    def _stream(
        self,
        rng: random.Random,
        person: _Person,
        members: list[_Enrollment],
        visits: list[dict[str, Any]],
        links: list[dict[str, Any]],
        last_exited: dict[int, dt.date],
        *,
        behind: bool = False,
    ) -> list[dict[str, Any]]:
        """Visits to one person for these enrollments (one worker's round); returns the counted ones.

        ``behind``: this round is overdue now (otherwise a random share is).
        """
        today = self.today
        start = min(e.start for e in members)
        active = any(e.end is None for e in members)
        last_day = today - dt.timedelta(days=1) if active else max(e.end or today for e in members)
        first = max(start + dt.timedelta(days=1), today - dt.timedelta(days=HISTORY_DAYS))
        interval = min(e.interval for e in members)
        behind = active and (rng.random() < BEHIND_SHARE or behind)
        days = self._schedule(rng, first, last_day, interval, behind)
        group = members[0].group
        counted: list[dict[str, Any]] = []
        previous: dt.date | None = None
        for n, day in enumerate(days):
            if previous is not None:
                due = previous + dt.timedelta(days=interval)
            elif members[0].start >= first - dt.timedelta(days=1):
                due = members[0].start + dt.timedelta(days=interval)
            else:
                due = day + dt.timedelta(days=rng.randint(0, interval // 4))
            previous = day
            roll = rng.random()
            if roll < 0.02:
                self._add_visit(
                    rng,
                    person,
                    members,
                    day - dt.timedelta(days=rng.randint(1, 3)),
                    first,
                    visits,
                    links,
                    status="cancelled",
                    due=due,
                    group=group,
                )
            elif roll < 0.07:
                self._add_visit(
                    rng,
                    person,
                    members,
                    day - dt.timedelta(days=rng.randint(1, 3)),
                    first,
                    visits,
                    links,
                    status="not_met",
                    due=due,
                    group=group,
                )
            mode = _weighted(rng, (("home", 88), ("third_party", 6), ("volunteer", 6)))
            row = self._add_visit(
                rng, person, members, day, first, visits, links, status="done", mode=mode, due=due, group=group
            )
            if row is not None:
                counted.append(row)
                for e in members:
                    if e.end is not None and e.start <= day <= e.end:
                        last_exited[e.id] = day
            following = days[n + 1] if n + 1 < len(days) else last_day
            if rng.random() < 0.11 and (following - day).days >= 4:
                call = day + dt.timedelta(days=(following - day).days // 2)
                self._add_visit(
                    rng, person, members, call, first, visits, links, status="done", mode="phone", due=None, group=group
                )
        return counted

    def _add_visit(
        self,
        rng: random.Random,
        person: _Person,
        members: list[_Enrollment],
        day: dt.date,
        first: dt.date,
        visits: list[dict[str, Any]],
        links: list[dict[str, Any]],
        *,
        status: str,
        due: dt.date | None,
        group: str,
        mode: str | None = None,
    ) -> dict[str, Any] | None:
        if day < first:
            return None
        worker: int | None = None
        covered: list[int] = []
        for e in members:
            if day < e.start or (e.end is not None and day > e.end):
                continue
            for who, start, end in e.segments:
                if start <= day and (end is None or day <= end):
                    worker = who
                    covered.append(e.id)
                    break
        if worker is None:
            return None
        vid = self.ids["visits"].take()
        at = _at(day, _working_minutes(rng))
        findings: dict[str, Any] = {}
        notes = ""
        cancel_reason = ""
        if status == "done":
            findings = self._findings(rng, group, members[0].facts, phone=mode == "phone")
            if mode == "phone":
                notes = rng.choice(PHONE_NOTES)
            elif rng.random() < 0.25:
                notes = rng.choice(VISIT_NOTES[group])
        elif status == "not_met":
            mode = "home"
            notes = rng.choice(NOT_MET_NOTES)
        else:
            cancel_reason = rng.choice(CANCEL_REASONS)
        row = {
            "id": vid,
            "person_id": person.id,
            "county_code": self.code,
            "worker_id": worker,
            "due_date": due,
            "status": status,
            "visited_at": None if status == "cancelled" else at,
            "mode": mode,
            "findings": findings,
            "notes": notes,
            "follow_up": "",
            "cancel_reason": cancel_reason,
            "version": 1,
            "created_at": at + dt.timedelta(minutes=rng.randint(3, 90)),
            "created_by": None,
            "client_token": None,
        }
        visits.append(row)
        links.extend({"visit_id": vid, "enrollment_id": eid} for eid in covered)
        return row if status == "done" and mode != "phone" else None

    @staticmethod
    def _findings(rng: random.Random, group: str, facts: dict[str, Any], *, phone: bool) -> dict[str, Any]:
        found: dict[str, Any] = {
            "safety": "concern" if rng.random() < 0.05 else "ok",
            "health": _weighted(rng, (("good", 70), ("fair", 24), ("poor", 6))),
        }
        if phone:
            return found
        found["living"] = "poor" if rng.random() < 0.07 else "ok"
        if group == "child":
            poor = facts.get("poor_guardianship") or facts.get("guardianship") == "none"
            found["guardianship"] = "concern" if poor or rng.random() < 0.04 else "ok"
            found["schooling"] = {"out_of_school": "absent", "not_school_age": "n/a"}.get(
                facts.get("schooling", ""), "attending"
            )
        elif group == "disabled":
            found["rehab"] = _weighted(rng, (("improving", 30), ("stable", 55), ("needs_support", 15)))
        return found

    def _need(
        self, rng: random.Random, person: _Person, enrollment: _Enrollment, visit: dict[str, Any]
    ) -> dict[str, Any]:
        kind = rng.choice(NEEDS_BY_GROUP[enrollment.group])
        department, description = NEED_DETAILS[kind]
        opened = visit["visited_at"].date()
        visit["follow_up"] = description
        age = (self.today - opened).days
        if age > 60:
            status = _weighted(rng, (("resolved", 75), ("in_progress", 15), ("open", 10)))
        else:
            status = _weighted(rng, (("open", 50), ("in_progress", 35), ("resolved", 15)))
        resolved = None
        if status == "resolved":
            resolved = min(self.today, opened + dt.timedelta(days=rng.randint(3, 60)))
        return {
            "id": self.ids["needs"].take(),
            "person_id": person.id,
            "enrollment_id": enrollment.id,
            "visit_id": visit["id"],
            "kind": kind,
            "department": department,
            "description": description,
            "status": status,
            "opened_on": opened,
            "resolved_on": resolved,
            "resolved_by": None,
            "created_by": None,
            "version": 1,
        }


# --- households: who may live with whom ---------------------------------------------------------


def _active(person: _Person, group: str) -> _Enrollment | None:
    """The person's enrollment of this group open today, if any."""
    return next((e for e in person.enrollments if e.group == group and e.end is None), None)


def _living(person: _Person) -> str:
    """An elder's living arrangement on their open elderly enrollment ('' for anyone else)."""
    enrollment = _active(person, "elderly") if person.kind == "elderly" else None
    return str(enrollment.facts.get("living_arrangement", "")) if enrollment is not None else ""


def _subtype(person: _Person) -> str:
    enrollment = _active(person, "elderly")
    return enrollment.subtype if enrollment is not None else ""


def _older_by(older: _Person, younger: _Person) -> int:
    """Full years from the older person's birth to the younger's (-1 if not older)."""
    if younger.birth < older.birth:
        return -1
    return ids.age_on(older.birth, younger.birth)


def _gap_in(older: _Person, younger: _Person, gap: tuple[int, int]) -> bool:
    return gap[0] <= _older_by(older, younger) <= gap[1]


def _spouses(a: _Person, b: _Person) -> bool:
    """A man and a woman of about the same age (ages today differ by SPOUSE_GAP at most)."""
    if a is b or a.sex == b.sex:
        return False
    first, second = (a, b) if a.birth <= b.birth else (b, a)
    return _older_by(first, second) < SPOUSE_GAP


def _take(pool: list[_Person], found: Iterator[_Person]) -> _Person | None:
    """The first person ``found`` yields (from ``pool``), taken out of the pool."""
    person = next(found, None)
    if person is not None:
        pool.remove(person)
    return person


def _take_youngest(pool: list[_Person], fitting: list[_Person]) -> _Person | None:
    """The youngest of ``fitting`` (from ``pool``), taken out of the pool."""
    if not fitting:
        return None
    person = max(fitting, key=lambda p: p.birth)
    pool.remove(person)
    return person


def _new_home(adults: list[_Person]) -> _Household:
    """A household of one or two elders; with two, the man is the head (户主) and the woman his spouse."""
    head = min(adults, key=lambda p: (p.sex != "M", p.birth))
    home = _Household(head)
    _join(home, head, "head")
    for other in adults:
        if other is not head:
            _join(home, other, "spouse")
    return home


def _join(home: _Household, person: _Person, relation: str) -> None:
    person.home = home
    person.relation = relation
    home.members.append(person)


def _room_for(home: _Household, child: _Person) -> bool:
    """Whether a left-behind child may be a brother or sister of the grandchildren already there."""
    children = [m for m in home.members if m.relation == "grandchild"]
    births = [m.birth for m in children] + [child.birth]
    grandparents = [m for m in home.members if m.relation != "grandchild"]
    return (
        _older_by(home.head, child) <= GRANDPARENT_GAP[1]
        and all(_older_by(g, child) >= GRANDPARENT_GAP[0] for g in grandparents)
        and ids.age_on(min(births), max(births)) < SIBLING_GAP
    )


# --- public API --------------------------------------------------------------------------------


def _refuse_unless_empty(session: Session, counties: list[DemoCounty]) -> None:
    what = "city" if len(counties) > 1 else "county"
    persons = session.scalar(select(func.count()).select_from(Person)) or 0
    if persons:
        raise DemoRefused(
            f"The database already holds {persons} persons; the demo {what} is only built into an empty database."
        )
    codes = [c.code for c in counties] + ([CITY_CODE, PROVINCE_CODE] if len(counties) > 1 else [])
    areas_ = session.scalars(select(Area.code).where(Area.code.in_(codes))).all()
    if areas_:
        raise DemoRefused(
            f"The database already has area {', '.join(sorted(areas_))}; the demo {what} needs an empty database."
        )
    usernames = [c.username(name) for c in counties for name in DEMO_USERNAMES]
    usernames += [CITY_USERNAME] if len(counties) > 1 else []
    clash = session.scalars(select(User.username).where(User.username.in_(usernames))).all()
    if clash:
        raise DemoRefused(
            f"The database already has the login(s) {', '.join(sorted(clash))}; "
            f"the demo {what} needs an empty database."
        )


def _current_worker(enrollment: _Enrollment) -> int | None:
    """The worker responsible for an enrollment today (its open last segment), if any."""
    if enrollment.segments and enrollment.segments[-1][2] is None:
        return enrollment.segments[-1][0]
    return None


def _reset_sequences(session: Session) -> None:
    # Rows were inserted with explicit ids, so PostgreSQL's sequences must catch up.
    for table in Base.metadata.sorted_tables:
        column = table.columns.get("id")
        # Only integer ids have a sequence (a visit pack's id is a random text).
        if column is None or not column.primary_key or not isinstance(column.type, Integer):
            continue
        session.execute(
            text(  # table names come from our own metadata, never from input
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )


def _no_progress(step: str) -> None:
    """The default progress report: nothing."""


def _no_city_progress(step: str, county: str | None) -> None:
    """The default progress report of a city: nothing."""


def build_demo(
    engine: Engine,
    *,
    residents: int,
    seed: int,
    today: dt.date | None = None,
    progress: Progress = _no_progress,
    counties: int = 1,
) -> dict[str, Any]:
    """Migrate, then fill an empty database with the demo county (or a city of ``counties``
    counties, see ``build_city``); returns the summary.

    ``progress`` is called with each step's name (``BUILD_STEPS``) as the step starts.
    """

    def report(step: str, county: str | None) -> None:
        progress(step)

    return build_city(engine, counties=counties, residents=residents, seed=seed, today=today, progress=report)


def build_city(
    engine: Engine,
    *,
    counties: int,
    residents: int,
    seed: int,
    today: dt.date | None = None,
    progress: CityProgress = _no_city_progress,
) -> dict[str, Any]:
    """Migrate, then fill an empty database with a demo city of ``counties`` counties and
    ``residents`` persons in all (one county: the demo county alone, without city or province).

    The counties are built one after the other, each from its own seed (``demo_counties``), with
    their own areas, workers, persons, visits, logins, visit policy, service list, providers and
    plans, all in one transaction. ``progress`` is called with each step's name and the county it
    is for (None for the steps of the whole database) as the step starts. A city's summary adds
    ``counties`` (their codes) and ``city_code`` to a county's, with its figures added up.
    """
    if not 1 <= counties <= MAX_COUNTIES:
        raise ValueError(f"counties must be between 1 and {MAX_COUNTIES}")
    if residents < counties:
        raise ValueError("residents must be at least 1" if counties == 1 else "residents must be at least 1 a county")
    today = today or clock.today()
    plan = demo_counties(residents, seed, counties)
    progress("migrate", None)
    upgrade(engine)
    with transaction(engine) as session:
        _refuse_unless_empty(session, plan)
        write = row_writer(session)
        if counties > 1:
            write(Area, _city_areas(plan))
        taken: set[str] = set()
        built: list[dict[str, Any]] = []
        for county in plan:
            built.append(_build_county(session, county, today=today, write=write, taken=taken, progress=progress))
        accounts = [account for summary in built for account in summary["accounts"]]
        if counties > 1:
            accounts.insert(0, _city_account(session, write, seed))
        write(
            Setting,
            [
                {"key": DEMO_SETTING, "value": "1"},
                {"key": ACCOUNTS_SETTING, "value": json.dumps(accounts, ensure_ascii=False)},
            ],
        )
        # The app's daily upkeep may already have marked an empty database.
        session.merge(Setting(key=SETTING_RISKS_REFRESHED, value=today.isoformat()))
        session.flush()
        if engine.dialect.name == "postgresql":
            _reset_sequences(session)
    # Fresh statistics, so the planners pick the per-person indexes for correlated lookups.
    progress("statistics", None)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    if counties == 1:
        return {**built[0], "accounts": accounts}
    return {
        "persons": residents,
        "townships": sum(s["townships"] for s in built),
        "villages": sum(s["villages"] for s in built),
        "visits": sum(s["visits"] for s in built),
        "county_code": plan[0].code,
        "accounts": accounts,
        "counties": [county.code for county in plan],
        "city_code": CITY_CODE,
    }


def _build_county(
    session: Session,
    county: DemoCounty,
    *,
    today: dt.date,
    write: Writer,
    taken: set[str],
    progress: CityProgress,
) -> dict[str, Any]:
    """One county's rows, then the app's county-wide passes over it; its summary."""

    def report(step: str) -> None:
        progress(step, county.code)

    summary = _Builder(session, county, today=today, write=write, taken=taken).build(report)
    first, last = summary.pop("person_ids")
    ensure_default_policy(session, county_code=county.code)
    session.flush()
    report("risks")
    # The stored risks already follow the family rules; this is the app's own pass, so that the
    # demo is exactly what a refresh would leave (and the due dates follow). It runs over the
    # county's persons a few thousand at a time, each batch with its households: memory stays
    # bounded whatever the size of the county or of the counties built before it.
    for start in range(first, last + 1, LARGE_SELECTION):
        refresh_risks(session, today=today, person_ids=list(range(start, min(last + 1, start + LARGE_SELECTION))))
    _risk_history(session, today=today, county_code=county.code)
    report("due_dates")
    refresh_due_dates(session, county_code=county.code)
    report("services")
    _services(session, today=today, county_code=county.code)
    build_plans_and_orders(session, seed=county.seed, today=today, county_code=county.code, write=write)
    return summary


def _area_row(code: str, name: str, level: str, parent: str | None, lat: float, lon: float) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "lat": lat,
        "lon": lon,
        "boundary": None,
        "valid_from": AREAS_VALID_FROM,
        "valid_to": None,
        "replaced_by": None,
    }


def _city_areas(counties: list[DemoCounty]) -> list[dict[str, Any]]:
    """The province and the city above the counties, placed at the middle of the counties' boxes."""
    lat = round((min(c.box[0][0] for c in counties) + max(c.box[0][1] for c in counties)) / 2, 6)
    lon = round((min(c.box[1][0] for c in counties) + max(c.box[1][1] for c in counties)) / 2, 6)
    return [
        _area_row(PROVINCE_CODE, PROVINCE_NAME, "province", None, lat, lon),
        _area_row(CITY_CODE, CITY_NAME, "city", PROVINCE_CODE, lat, lon),
    ]


def _user_row(
    user_id: int,
    username: str,
    password: str,
    *,
    role: str,
    area: str,
    display: str,
    worker_id: int | None,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": username,
        "display_name": display,
        "password_hash": hash_password(password),
        "role": role,
        "area_code": area,
        "worker_id": worker_id,
        "active": True,
        "must_change_password": False,
        "failed_logins": 0,
        "locked_until": None,
        "created_at": now,
        "last_login_at": None,
        "version": 1,
    }


def _city_account(session: Session, write: Writer, seed: int) -> dict[str, str]:
    """The city's login (a viewer of every county), after the counties' so theirs keep their ids."""
    password = demo_password(demo_rng(seed, "city accounts"), CITY_USERNAME)
    user_id = (session.scalar(select(func.max(User.id))) or 0) + 1
    display = f"{CITY_NAME.split('（', maxsplit=1)[0]}民政局（演示）"
    row = _user_row(
        user_id, CITY_USERNAME, password, role="city", area=CITY_CODE, display=display, worker_id=None, now=clock.now()
    )
    write(User, [row])
    return {"role": "city", "username": CITY_USERNAME, "password": password}


def _services(session: Session, *, today: dt.date, county_code: str) -> None:
    """The county's default service list in force for a year, providers in every township, a few pairings."""
    seed_default_services(session, valid_from=today - dt.timedelta(days=365), county_code=county_code)
    county = session.get(Area, county_code)
    if county is None:
        return
    now = clock.now()
    short = county.name.split("（")[0]

    def provider(kind: str, name: str, area: str, services: list[str]) -> Provider:
        made = Provider(
            kind=kind, name=name, area_code=area, services=services, version=1, created_at=now, updated_at=now
        )
        session.add(made)
        return made

    provider(
        "department",
        f"{short}民政局",
        county.code,
        ["assistive_fitting", "emergency_referral", "guardianship_guidance"],
    )
    provider("department", f"{short}残联康复中心", county.code, ["rehab_training", "assistive_fitting"])
    provider("social_org", f"{short}阳光社工服务中心", county.code, ["counselling", "tutoring", "bath"])
    townships = session.scalars(
        select(Area).where(Area.level == "township", Area.parent_code == county.code).order_by(Area.code)
    ).all()
    partners: list[tuple[Provider, str]] = []
    for i, township in enumerate(townships):
        provider("mutual_aid", f"{township.name}互助养老队", township.code, ["meal", "medical_escort"])
        partners.append(
            (provider("volunteer", f"{township.name}青年志愿者队", township.code, ["tutoring"]), township.code)
        )
        partners.append(
            (
                provider("cadre", f"{township.name}包村干部（{i + 1}号）", township.code, ["guardianship_guidance"]),
                township.code,
            )
        )
    session.flush()
    for partner, code in partners:
        # The two highest-risk children of the township who have a pairing partner there.
        children = session.scalars(
            select(Enrollment.person_id)
            .join(Person, Person.id == Enrollment.person_id)
            .where(
                Enrollment.county_code == county.code,
                Enrollment.group == "child",
                Enrollment.end_date.is_(None),
                Enrollment.risk == "high",
                Person.village_code.startswith(code[:9]),
            )
            .order_by(Enrollment.person_id)
            .limit(2 if partner.kind == "volunteer" else 1)
        ).all()
        for pid in children:
            session.add(
                Pairing(
                    provider_id=partner.id,
                    person_id=pid,
                    start_date=today - dt.timedelta(days=120),
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
    session.flush()


def _risk_history(session: Session, *, today: dt.date, county_code: str) -> None:
    """Each of the county's enrollments' risk as known since it started (the demo keeps no older history)."""
    now = clock.now()
    session.execute(
        insert(RiskChange).from_select(
            ["enrollment_id", "person_id", "day", "old", "new", "cause", "created_at"],
            select(
                Enrollment.id,
                Enrollment.person_id,
                case((Enrollment.start_date > today, literal(today)), else_=Enrollment.start_date),
                null(),
                Enrollment.risk,
                literal("enroll"),
                literal(now),
            )
            .where(Enrollment.county_code == county_code)
            .order_by(Enrollment.id),
        )
    )


def main(argv: Iterable[str] | None = None) -> int:
    """Command line: build the demo county (or city), report each step on standard error and print
    the summary as the last line."""
    parser = argparse.ArgumentParser(
        prog="python -m care.demo", description="Build the synthetic demo county (or city) into an empty database."
    )
    parser.add_argument("--db", required=True, help="SQLite file path, sqlite:/// URL or postgresql:// URL")
    parser.add_argument("--residents", type=int, default=5000, help="number of persons in all (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--counties",
        type=int,
        default=1,
        help=f"counties of a demo city, 1 to {MAX_COUNTIES}, sharing the residents (default 1: the county alone)",
    )
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="build as of this date, YYYY-MM-DD (default: today in county time)",
    )
    parser.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG, help="language of the progress lines")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not 1 <= args.counties <= MAX_COUNTIES:
        parser.error(t("setup.cli.bad_counties", args.lang, most=MAX_COUNTIES))
    if args.residents < args.counties:
        parser.error(t("setup.cli.too_few_residents", args.lang, counties=args.counties))
    names = {county.code: county.name for county in demo_counties(args.residents, args.seed, args.counties)}
    started = time.monotonic()

    def report(step: str, county: str | None) -> None:
        label = t(f"setup.step.{step}", args.lang)
        seconds = f"{time.monotonic() - started:.1f}"
        if county is None or args.counties == 1:
            line = t("setup.cli.step", args.lang, seconds=seconds, step=label)
        else:
            n = list(names).index(county) + 1
            line = t(
                "setup.cli.county_step",
                args.lang,
                seconds=seconds,
                county=names[county],
                n=n,
                total=args.counties,
                step=label,
            )
        print(line, file=sys.stderr, flush=True)

    try:
        summary = build_city(
            get_engine(args.db),
            counties=args.counties,
            residents=args.residents,
            seed=args.seed,
            today=args.today,
            progress=report,
        )
        print(t("setup.cli.done", args.lang, seconds=f"{time.monotonic() - started:.1f}"), file=sys.stderr)
    except DemoRefused as refused:
        print(f"care.demo: {refused}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False))
    return 0
