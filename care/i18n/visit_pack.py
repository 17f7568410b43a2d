"""The offline visit pack (离线巡访包).

Keys: ``pack.``. Each entry is ``key: (zh, en)``; see care/i18n/__init__.py."""

from __future__ import annotations

from care.i18n.entry import Entry, Plural

PREFIXES = ("pack",)

ENTRIES: dict[str, Entry] = {
    "pack.title": ("离线巡访包", "Offline visit pack"),
    "pack.pin": ("请输入巡访包密码（PIN）", "Enter the pack's PIN"),
    "pack.open": ("打开", "Open"),
    "pack.opening": ("正在解密……", "Decrypting…"),
    "pack.wrong_pin": ("密码不正确，或文件已被改动。", "Wrong PIN, or the file was changed."),
    "pack.expired_open": (
        "此巡访包已于 {day} 过期，不能再打开。请联网后在“我的巡访”下载新的巡访包。",
        "This pack expired on {day} and no longer opens. Download a new pack on My visits when online.",
    ),
    "pack.expires_on": ("有效期至 {day}", "Valid until {day}"),
    "pack.bad_file": ("这不是乡村关爱地图的巡访包。", "This is not a CareMap visit pack."),
    "pack.no_crypto": (
        "此浏览器无法解密巡访包（需要 WebCrypto 和 IndexedDB），请用手机自带的 Chrome 或 Edge 打开。",
        "This browser cannot open the pack (it needs WebCrypto and IndexedDB); open it in Chrome or Edge.",
    ),
    "pack.counts": ("本周 {total} 人，本机已记录 {recorded} 人", "{total} persons this week, {recorded} recorded on this phone"),
    "pack.not_sent_hint": (
        "记录保存在本机（已加密），联网后导出结果文件并在“我的巡访”上传，才会记入系统。",
        "Visits are kept on this phone (encrypted); they reach CareMap only when you export the result file "
        "and upload it on My visits.",
    ),
    "pack.export": ("导出结果文件", "Export the result file"),
    "pack.exported": ("已导出 {n} 条巡访记录，尚未上传。", Plural("{n} visit exported, not yet uploaded.", "{n} visits exported, not yet uploaded.")),
    "pack.recorded_as": ("已记录（未上传）：{status}", "Recorded (not sent): {status}"),
    "pack.not_recorded": ("未记录", "Not recorded"),
    "pack.record": ("记录巡访", "Record a visit"),
    "pack.change": ("修改本机记录", "Change this record"),
    "pack.close": ("收起", "Close"),
    "pack.store_failed": ("无法保存到本机存储，请检查手机存储空间。", "Could not save on this phone; check its free storage."),
    "pack.pin_digits": ("密码须为 {min}–{max} 位数字。", "The PIN must be {min}–{max} digits."),
    "pack.pin_trivial": (
        "密码太容易被猜到（同一数字、连续数字、重复组合或常用密码），请换一个。",
        "The PIN is too easy to guess (one digit, a run, a repeated pattern or a common PIN); choose another.",
    ),
    "pack.pin_mismatch": ("两次输入的密码不一致。", "The two PINs differ."),
    "pack.coordinator_only": ("只有关联了工作人员的巡访员可以下载巡访包。", "Only a coordinator linked to a worker can download a pack."),
    "pack.nothing_due": ("本周没有需要巡访的对象，无需下载巡访包。", "Nobody is due this week, so there is no pack to download."),
    "pack.result_too_large": ("文件超过 {limit} MB，不是巡访包的结果文件。", "The file is over {limit} MB: not a pack's result file."),
    "pack.result_not_json": (
        "这不是巡访包导出的结果文件（或内容已损坏）。请上传巡访包“导出结果文件”得到的 .json 文件。",
        "This is not a result file exported by a visit pack (or it is damaged). Upload the .json file the pack's "
        "Export button saved.",
    ),
    "pack.unknown": ("系统中没有这个巡访包，无法导入其结果。", "CareMap knows no such pack; its results cannot be imported."),
    "pack.foreign": ("这个巡访包不是发给您的，不能由您上传。", "This pack was not issued to you; you cannot upload it."),
    "pack.bad_signature": (
        "结果文件的签名不符：文件在导出后被修改过或是伪造的，未导入任何记录。",
        "The result file's signature does not match: it was edited after export or forged. Nothing was imported.",
    ),
    "pack.result_expired": (
        "巡访包已于 {expires} 过期超过 {days} 天，结果文件不再接受。请把记录交给督导员补录。",
        "The pack expired on {expires}, more than {days} days ago; its result file is no longer accepted. "
        "Give the records to your supervisor to enter.",
    ),
    "pack.person_not_in_pack": ("该对象或其在册记录不在这个巡访包中。", "The person or enrollment is not in this pack."),
    "pack.duplicate_visit": ("同一对象在文件中出现了两次。", "The same person appears twice in the file."),
    "pack.visit_outside_pack": ("巡访时间不在巡访包的有效期内。", "The visit time lies outside the pack's validity."),
    "pack.result_has_problems": ("文件中有 {n} 处问题，未导入任何记录。", Plural("The file has {n} problem; nothing was imported.", "The file has {n} problems; nothing was imported.")),
    "pack.conflicts_unresolved": ("还有冲突未处理（共 {n} 条），未导入任何记录。", "Conflicts are not all resolved ({n}); nothing was imported."),
    "pack.section": ("离线巡访包（无信号时使用）", "Offline visit pack (for places without signal)"),
    "pack.section_help": (
        "下载本周巡访对象的加密巡访包，在手机浏览器中离线打开并记录巡访；回到有信号的地方后上传结果文件。"
        "巡访包 {days} 天后过期；密码不保存在系统中，忘记密码只能重新下载。",
        "Download this week's persons as an encrypted pack, open it offline in the phone's browser and record "
        "visits there; back in signal, upload its result file. The pack expires after {days} days; the PIN is "
        "not stored, so a forgotten PIN means downloading a new pack.",
    ),
    "pack.pin_new": ("设置密码（至少 6 位数字）", "Set a PIN (at least 6 digits)"),
    "pack.pin_again": ("再次输入密码", "Repeat the PIN"),
    "pack.make": ("生成巡访包", "Make the pack"),
    "pack.made": ("巡访包已生成：{n} 人，有效期至 {day}。", Plural("Pack made: {n} person, valid until {day}.", "Pack made: {n} persons, valid until {day}.")),
    "pack.download": ("下载巡访包", "Download the pack"),
    "pack.upload": ("上传结果文件", "Upload the result file"),
    "pack.check_counts": (
        "文件中共 {total} 条巡访：新记录 {new} 条，已导入过 {already} 条，冲突 {conflicts} 条。",
        "{total} visits in the file: {new} new, {already} already imported, {conflicts} in conflict.",
    ),
    "pack.problem_line": ("第 {n} 条（{name}）：{reason}", "Visit {n} ({name}): {reason}"),
    "pack.conflict_line": ("第 {n} 条（{name}，{when}）：{reason}", "Visit {n} ({name}, {when}): {reason}"),
    "pack.conflict.visited": (
        "巡访包生成后，已有人为该对象记录了巡访。",
        "Someone recorded a visit to this person after the pack was made.",
    ),
    "pack.conflict.exited": (
        "该对象已退出或不在册，不能再记入；请把记录内容告知督导员。",
        "The person has left the list and cannot be recorded; tell your supervisor what the visit found.",
    ),
    "pack.conflict.reassigned": (
        "该对象已改由其他工作人员负责，不能由您记入；请把记录内容告知督导员。",
        "The person is now another worker's and cannot be recorded by you; tell your supervisor what the visit found.",
    ),
    "pack.resolve.record": ("仍然记入", "Record anyway"),
    "pack.resolve.discard": ("不记入", "Discard"),
    "pack.resolve": ("处理方式", "Resolution"),
    "pack.confirm": ("确认导入", "Import"),
    "pack.applied": (
        "已导入 {written} 条巡访；已导入过 {already} 条，不记入 {discarded} 条。",
        "{written} visits imported; {already} were already in, {discarded} discarded.",
    ),
    "pack.nothing_new": ("文件中的巡访都已导入过，本次没有写入任何记录。", "Every visit in the file is already in; nothing was written."),
}
