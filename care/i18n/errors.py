"""Errors any page can show, and the checks of a person's ID, certificate, enrollment.

Keys: ``error.``, ``id.``, ``certificate.``, ``person.``, ``enrollment.``. Each entry is ``key: (zh, en)``; see care/i18n/__init__.py."""

from __future__ import annotations

from care.i18n.entry import Entry

PREFIXES = ("error", "id", "certificate", "person", "enrollment")

ENTRIES: dict[str, Entry] = {
    "error.not_found": ("记录不存在或无权查看。", "The record does not exist or you may not see it."),
    "error.permission_denied": ("您的角色无权执行此操作。", "Your role may not do this."),
    "error.stale_record": (
        "保存失败：该记录已被他人修改（您看到的是第 {seen} 版，当前为第 {now} 版）。下面显示的是最新内容，请核对后重新保存。",
        "Not saved: someone else changed this record (you saw version {seen}, it is now version {now}). "
        "The newer values are shown below; check them and save again.",
    ),
    "error.login_failed": (
        "用户名或密码错误，或账号已停用/锁定。",
        "Wrong username or password, or the account is inactive or locked.",
    ),
    "error.no_scope": (
        "您的账号没有分配辖区，无法查看任何记录。请联系系统管理员。",
        "Your account has no area assigned, so it sees no records. Ask the administrator.",
    ),
    "id.empty": ("请填写公民身份号码。", "Enter the citizen ID number."),
    "id.not_text": ("公民身份号码应以文本形式填写。", "The citizen ID number must be entered as text."),
    "id.excel_number": (
        "公民身份号码被保存成了数字：Excel 只保留 15 位有效数字，18 位号码的末几位已经丢失。请将该列的单元格格式设置为“文本”，然后重新录入完整号码。",
        "The citizen ID number was stored as a number: Excel keeps only 15 significant digits, so the last digits "
        "of an 18-digit number were lost. Set the column's cell format to Text and enter the full number again.",
    ),
    "id.excel_scientific": (
        "公民身份号码显示为科学计数法（{value}），说明 Excel 把它保存成了数字，末几位已经丢失。请将该列的单元格格式设置为“文本”，然后重新录入完整号码。",
        "The citizen ID number appears in scientific notation ({value}): Excel stored it as a number and its last "
        "digits were lost. Set the column's cell format to Text and enter the full number again.",
    ),
    "id.excel_lost_digits": (
        "公民身份号码末三位为 000 且校验位不正确，通常是 Excel 把号码保存成数字后丢失了最后几位。请将该列的单元格格式设置为“文本”，然后对照身份证重新录入完整号码。",
        "The citizen ID number ends in 000 and its check digit does not match: this usually means Excel stored it "
        "as a number and dropped the last digits. Set the column's cell format to Text and enter the full number "
        "again from the ID card.",
    ),
    "id.bad_chars": (
        "公民身份号码含有无效字符“{char}”。号码只能由数字组成，18 位号码的最后一位可以是 X。",
        "The citizen ID number contains an invalid character '{char}'. It may contain only digits; "
        "the last character of an 18-character number may be X.",
    ),
    "id.x_position": (
        "公民身份号码中的 X 只能出现在 18 位号码的最后一位。",
        "X may appear only as the last character of an 18-character citizen ID number.",
    ),
    "id.bad_length": (
        "公民身份号码应为 18 位（旧版为 15 位），现为 {length} 位。",
        "A citizen ID number has 18 characters (15 in the old format); this one has {length}.",
    ),
    "id.bad_date": (
        "公民身份号码中的出生日期“{date}”不是有效日期，请对照身份证核实。",
        "The birth date '{date}' in the citizen ID number is not a valid date; check the number against the ID card.",
    ),
    "id.birth_before_1900": (
        "公民身份号码中的出生年份 {year} 早于 1900 年，请对照身份证核实。",
        "The birth year {year} in the citizen ID number is before 1900; check the number against the ID card.",
    ),
    "id.future_birth": (
        "公民身份号码中的出生日期 {date} 晚于今天，请对照身份证核实。",
        "The birth date {date} in the citizen ID number is later than today; check the number against the ID card.",
    ),
    "id.bad_check_digit": (
        "公民身份号码校验位不正确，请对照身份证核实。",
        "The check digit of the citizen ID number does not match; check the number against the ID card.",
    ),
    "id.unknown_region": (
        "公民身份号码前 6 位地区码 {region} 不是已知的行政区划代码（现行或已撤销的都不是），请对照身份证核实。",
        "The region code {region} (the first 6 digits of the citizen ID number) is not a known administrative division code, current or former; check the number against the ID card.",
    ),
    "id.sex_mismatch": (
        "所填性别与公民身份号码不一致（号码第 17 位为奇数是男性、偶数是女性），请核对。",
        "The sex does not match the citizen ID number (an odd 17th digit means male, an even one female); please check.",
    ),
    "id.birth_mismatch": (
        "所填出生日期 {given} 与公民身份号码中的出生日期 {expected} 不一致，请核对。",
        "The birth date {given} does not match the birth date {expected} in the citizen ID number; please check.",
    ),
    "certificate.empty": ("请填写残疾人证号。", "Enter the disability certificate number."),
    "certificate.not_text": ("残疾人证号应以文本形式填写。", "The disability certificate number must be entered as text."),
    "certificate.excel_number": (
        "残疾人证号被保存成了数字：Excel 只保留 15 位有效数字，证号的末几位已经丢失。请将该列的单元格格式设置为“文本”，然后重新录入完整证号。",
        "The disability certificate number was stored as a number: Excel keeps only 15 significant digits, so its "
        "last digits were lost. Set the column's cell format to Text and enter the full number again.",
    ),
    "certificate.excel_scientific": (
        "残疾人证号显示为科学计数法（{value}），说明 Excel 把它保存成了数字，末几位已经丢失。请将该列的单元格格式设置为“文本”，然后重新录入完整证号。",
        "The disability certificate number appears in scientific notation ({value}): Excel stored it as a number "
        "and its last digits were lost. Set the column's cell format to Text and enter the full number again.",
    ),
    "certificate.bad_chars": (
        "残疾人证号含有无效字符“{char}”。证号只能由数字组成，第 18 位可以是 X。",
        "The disability certificate number contains an invalid character '{char}'. It may contain only digits; "
        "the 18th character may be X.",
    ),
    "certificate.x_position": (
        "残疾人证号中的 X 只能出现在第 18 位（即公民身份号码的最后一位）。",
        "X may appear in a disability certificate number only as the 18th character (the last of the ID number).",
    ),
    "certificate.bad_length": (
        "残疾人证号应为 20 位（18 位公民身份号码加残疾类别、残疾等级各 1 位），现为 {length} 位。",
        "A disability certificate number has 20 characters (the 18-character ID number, then one digit each "
        "for category and grade); this one has {length}.",
    ),
    "certificate.no_id_number": (
        "请先填写持证人的公民身份号码，再填写残疾人证号。",
        "Enter the holder's citizen ID number before the disability certificate number.",
    ),
    "certificate.id_mismatch": (
        "残疾人证号的前 18 位应与持证人的公民身份号码一致，请对照残疾人证核实。",
        "The first 18 characters of the disability certificate number must equal the holder's citizen ID number; "
        "check it against the certificate.",
    ),
    "certificate.bad_category": (
        "残疾人证号第 19 位为残疾类别代码，应为 1–7（1 视力、2 听力、3 言语、4 肢体、5 智力、6 精神、7 多重），现为 {found}。",
        "The 19th digit of a disability certificate number is the category code and must be 1-7 (1 visual, "
        "2 hearing, 3 speech, 4 physical, 5 intellectual, 6 mental, 7 multiple); it is {found}.",
    ),
    "certificate.bad_grade": (
        "残疾人证号第 20 位为残疾等级代码，应为 1–4（一级至四级），现为 {found}。",
        "The 20th digit of a disability certificate number is the grade code and must be 1-4; it is {found}.",
    ),
    "certificate.category_mismatch": (
        "残疾人证号第 19 位表示的残疾类别（{found}）与所填残疾类别（{expected}）不一致，请核对。",
        "The category in the disability certificate number's 19th digit ({found}) does not match "
        "the category entered ({expected}); please check.",
    ),
    "certificate.grade_mismatch": (
        "残疾人证号第 20 位表示的残疾等级（{found} 级）与所填残疾等级（{expected} 级）不一致，请核对。",
        "The grade in the disability certificate number's 20th digit ({found}) does not match "
        "the grade entered ({expected}); please check.",
    ),
    "error.bad_choice": ("“{value}”不是允许的选项。", "“{value}” is not one of the allowed choices."),
    "error.required": ("请选择，此项必填。", "Choose one: this is required."),
    "person.name_required": ("请填写姓名。", "Enter the name."),
    "person.name_too_long": ("姓名过长（最多 64 个字）。", "The name is too long (64 characters at most)."),
    "person.bad_phone": ("联系电话应为 7 至 12 位数字。", "A phone number is 7 to 12 digits."),
    "person.coords_incomplete": (
        "经纬度需同时填写数字，或同时留空。",
        "Enter both latitude and longitude as numbers, or leave both empty.",
    ),
    "person.coords_outside_china": (
        "坐标不在中国境内，请检查经纬度是否填反或有误。",
        "The point is outside China; check that latitude and longitude are not swapped or mistyped.",
    ),
    "person.coords_outside_county": (
        "坐标位于{county}范围之外，请核实。",
        "The point lies outside {county}; please check it.",
    ),
    "person.bad_village": ("请选择有效的村（社区）。", "Choose a valid village."),
    "person.village_replaced": (
        "村（社区）代码 {code} 已撤并，请使用新的代码。",
        "Village code {code} was merged away; use the new code.",
    ),
    "person.village_outside_scope": ("该村不在您的辖区内。", "That village is outside your area."),
    "person.duplicate_visible": (
        "该身份证号已登记：{name}（{village}）。请打开已有档案，不要重复登记。",
        "This ID number is already registered: {name} ({village}). Open the existing file instead.",
    ),
    "person.contact_unknown": ("只能查看电话或位置。", "Only the phone or the location can be opened."),
    "person.duplicate_deleted": (
        "该身份证号已登记但已被删除：{name}（{village}）。请在“查看已删除”中恢复该档案。",
        "This ID number belongs to a deleted file: {name} ({village}). Restore it from Show deleted.",
    ),
    "person.duplicate_elsewhere": (
        "该身份证号已在其他辖区登记，不能重复登记。请联系县级管理员核实迁移。",
        "This ID number is already registered in another area. Ask the county administrator to transfer it.",
    ),
    "person.delete_reason_required": ("请填写删除原因。", "Give a reason for deleting."),
    "enrollment.child_too_old.left_behind": (
        "该对象已满 {age} 周岁，农村留守儿童须未满 {limit} 周岁。",
        "This person is {age}; a left-behind child must be under {limit}.",
    ),
    "enrollment.child_too_old.distressed": (
        "该对象已满 {age} 周岁，困境儿童须未满 {limit} 周岁。",
        "This person is {age}; a child in difficulty must be under {limit}.",
    ),
    "enrollment.child_too_old.unsupported": (
        "该对象已满 {age} 周岁，事实无人抚养儿童须未满 {limit} 周岁。",
        "This person is {age}; a de facto unsupported child must be under {limit}.",
    ),
    "enrollment.elderly_too_young": (
        "该对象 {age} 周岁，老年人类别须年满 60 周岁。",
        "This person is {age}; the elderly register starts at 60.",
    ),
    "enrollment.certificate_required": (
        "持证残疾人须填写残疾人证号。",
        "A certified disabled person needs the certificate number.",
    ),
    "enrollment.person_not_active": (
        "该对象已去世或迁出，不能纳入。",
        "This person has died or moved away and cannot be enrolled.",
    ),
    "enrollment.start_in_future": ("纳入日期不能晚于今天。", "The enrollment date cannot be in the future."),
    "enrollment.start_before_birth": ("纳入日期不能早于出生日期。", "The enrollment date cannot be before birth."),
    "enrollment.already_enrolled": ("该对象已在此类别中在册。", "This person is already on this group's register."),
    "enrollment.override_reason_required": (
        "人工调整风险等级须填写理由。",
        "An override of the risk level needs a reason.",
    ),
    "enrollment.already_exited": ("该在册记录已退出。", "This enrollment has already ended."),
    "enrollment.exit_in_future": ("退出日期不能晚于今天。", "The exit date cannot be in the future."),
    "enrollment.exit_before_start": ("退出日期不能早于纳入日期。", "The exit date cannot be before the enrollment began."),
    "enrollment.exit_note_required": ("退出原因为“其他”时须填写说明。", "Explain the exit when the reason is Other."),
}
