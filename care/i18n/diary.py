"""The workers' diary (民情日记).

Keys: ``diary.``. Each entry is ``key: (zh, en)``; see care/i18n/__init__.py."""

from __future__ import annotations

from care.i18n.entry import Entry, Plural

PREFIXES = ("diary",)

ENTRIES: dict[str, Entry] = {
    "diary.title": ("民情日记", "Workers' diary"),
    "diary.help": (
        "记录每天走访的见闻和办理的事项，可关联涉及的对象；督导员可按人员、对象、关键词和日期查阅。",
        "Note each day what was heard on the rounds and what was done, with the persons concerned; "
        "supervisors search by worker, person, words and dates.",
    ),
    "diary.tab_write": ("写日记", "Write"),
    "diary.tab_mine": ("我的日记", "My entries"),
    "diary.tab_search": ("查阅日记", "Search"),
    "diary.tab_timeline": ("时间线", "Timeline"),
    "diary.worker": ("工作人员", "Worker"),
    "diary.writing_as": ("以 {name} 的名义记录", "Writing as {name}"),
    "diary.day": ("日期", "Day"),
    "diary.kind": ("类别", "Kind"),
    "diary.text": ("内容", "Text"),
    "diary.text_help": ("最多 2000 字；多余的空格和空行会被去掉。", "At most 2,000 characters; extra spaces and blank lines are removed."),
    "diary.persons": ("涉及对象", "Persons concerned"),
    "diary.find_person": ("按姓名查找对象", "Find a person by name"),
    "diary.save": ("保存日记", "Save entry"),
    "diary.saved": ("日记已保存。", "Entry saved."),
    "diary.updated": ("日记已修改。", "Entry changed."),
    "diary.deleted": ("日记已删除。", "Entry deleted."),
    "diary.edit": ("修改或删除日记", "Change or delete an entry"),
    "diary.choose_entry": ("选择日记", "Choose an entry"),
    "diary.save_changes": ("保存修改", "Save changes"),
    "diary.delete": ("删除这条日记", "Delete this entry"),
    "diary.delete_confirm": ("确认删除（删除后不再显示）", "Yes, delete it (it is no longer shown)"),
    "diary.empty": ("没有符合条件的日记。", "No entries match."),
    "diary.no_workers": ("辖区内没有工作人员。", "There are no workers in your area."),
    "diary.search_text": ("关键词", "Words"),
    "diary.search_person": ("对象", "Person"),
    "diary.start": ("开始日期", "From"),
    "diary.end": ("结束日期", "To"),
    "diary.count": ("共 {n} 条", Plural("{n} entry", "{n} entries")),
    "diary.col.day": ("日期", "Day"),
    "diary.col.kind": ("类别", "Kind"),
    "diary.col.worker": ("工作人员", "Worker"),
    "diary.col.text": ("内容", "Text"),
    "diary.col.persons": ("涉及对象", "Persons"),
    "diary.col.author": ("记录人", "Written by"),
    "diary.col.updated": ("最后修改", "Last changed"),
    "diary.col.type": ("类型", "Type"),
    "diary.hidden_persons": ("另有 {n} 名对象（无权查看）", "{n} more (outside your scope)"),
    "diary.row.visit": ("巡访", "Visit"),
    "diary.row.diary": ("日记", "Diary"),
    "diary.timeline_empty": ("这段时间没有巡访记录或日记。", "No visits or diary entries in these days."),
    "diary.pf_title": ("民情日记", "Diary entries"),
    "diary.pf_empty": ("没有提到该对象的日记。", "No diary entry names this person."),
    "diary.error.future": ("日期不能晚于今天（{today}）。", "The day cannot be after today ({today})."),
    "diary.error.text_required": ("请填写日记内容。", "Write the entry's text."),
    "diary.error.too_long": (
        "日记内容最多 {max} 字（现在 {length} 字）。",
        "An entry holds at most {max} characters (this one has {length}).",
    ),
    "diary.error.worker_required": ("请选择工作人员。", "Choose the worker."),
    "diary.error.person": ("所选对象不存在或无权查看。", "A chosen person does not exist or is outside your scope."),
    "diary.error.too_many_persons": ("一条日记最多关联 {max} 名对象。", "An entry names at most {max} persons."),
}
