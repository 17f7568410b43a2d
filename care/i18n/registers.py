"""The registers page (对象台账).

Keys: ``register.``. Each entry is ``key: (zh, en)``; see care/i18n/__init__.py."""

from __future__ import annotations

from care.i18n.entry import Entry, Plural

PREFIXES = ("register",)

ENTRIES: dict[str, Entry] = {
    "register.title": ("对象台账", "Registers"),
    "register.township": ("乡镇（街道）", "Township"),
    "register.county": ("县（市、区）", "County"),
    "register.village": ("村（社区）", "Village"),
    "register.group": ("关爱类别", "Care group"),
    "register.risk": ("风险等级", "Risk"),
    "register.status": ("人员状态", "Status"),
    "register.overdue_only": ("只看逾期", "Overdue only"),
    "register.deleted_only": ("查看已删除", "Show deleted"),
    "register.search": ("姓名或身份证号", "Name or ID number"),
    "register.search_help": (
        "可输入姓名的一部分，或身份证号的至少 4 位。",
        "Part of a name, or at least 4 digits of an ID number.",
    ),
    "register.all": ("全部", "All"),
    "register.total": (
        "共 {total} 人（按人计，截至 {day}：{parts}；不含已删除）· 第 {page}/{pages} 页",
        Plural("{total} person (as of {day}: {parts}; deleted records not included) · page {page} of {pages}", "{total} persons (as of {day}: {parts}; deleted records not included) · page {page} of {pages}", by="total"),
    ),
    "register.page": ("页码", "Page"),
    "register.open": ("打开档案", "Open file"),
    "register.select_hint": ("在表格中选择一行，然后点击“打开档案”。", "Select a row in the table, then press Open file."),
    "register.empty": ("辖区内还没有在册对象。名册由县级管理员在“导入”页导入，或在“新增对象”中逐个登记。", "Nobody is on the registers in your area yet. The county administrator imports the rosters on the Imports page, or persons are added one by one under New person."),
    "register.empty_filtered": ("没有符合条件的对象。请放宽或清除上面的筛选条件。", "No persons match. Loosen or clear the filters above."),
    "register.new": ("新建对象", "New person"),
    "register.overdue_mark": ("逾期", "overdue"),
    "register.worklist_shown": ("正在查看清单：{name}。其他筛选条件仍然有效。", "Showing the list: {name}. The other filters still apply."),
    "register.worklist_clear": ("查看全部", "Show all"),
}
