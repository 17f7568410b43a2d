"""Needs and referrals (需求转介).

Keys: ``needs.``. Each entry is ``key: (zh, en)``; see care/i18n/__init__.py."""

from __future__ import annotations

from care.i18n.entry import Entry, Plural

PREFIXES = ("needs",)

ENTRIES: dict[str, Entry] = {
    "needs.bad_kind": ("需求类型无法识别。", "The kind of need is not recognised."),
    "needs.description_required": ("“其他”类需求需要写明具体内容。", "A need of kind “other” must say what is needed."),
    "needs.bad_status": ("需求状态无法识别。", "The need status is not recognised."),
    "needs.bad_move": ("需求只能按“待处理 → 处理中 → 已解决”向前推进。", "A need only moves forward: open → in progress → resolved."),
    "needs.bad_enrollment": ("所选在册记录不属于该对象。", "That enrollment does not belong to this person."),
    "needs.show": ("显示", "Show"),
    "needs.show.open": ("未解决", "Open"),
    "needs.show.all": ("全部", "All"),
    "needs.count": ("共 {n} 条（最早登记的在前）", Plural("{n} need (oldest first)", "{n} needs (oldest first)")),
    "needs.none": ("没有符合条件的需求。", "No needs match."),
    "needs.col_opened": ("登记日期", "Opened"),
    "needs.col_days": ("已过天数", "Days open"),
    "needs.col_name": ("姓名", "Name"),
    "needs.col_village": ("村（社区）", "Village"),
    "needs.move_title": ("推进需求", "Move a need forward"),
    "needs.pick": ("选择需求", "Need"),
    "needs.move": ("保存状态", "Save the status"),
    "needs.moved": ("需求状态已更新。", "The need's status was updated."),
    "needs.raise": ("登记需求", "Raise the need"),
    "needs.raised": ("已登记需求。", "The need was raised."),
}
