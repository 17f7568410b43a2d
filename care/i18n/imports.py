"""Data imports (数据导入) and their templates.

Keys: ``import.``. Each entry is ``key: (zh, en)``; see care/i18n/__init__.py."""

from __future__ import annotations

from care.i18n.entry import Entry, Plural

PREFIXES = ("import",)

ENTRIES: dict[str, Entry] = {
    # imports: 数据导入 page, python -m care.imports, the templates
    "import.title": ("数据导入", "Imports"),
    "import.kind": ("导入内容", "What to import"),
    "import.kind_roster": ("对象台账（新增对象与在册类别）", "Roster (new persons and enrollments)"),
    "import.kind_visits": ("巡访记录", "Visit records"),
    "import.kind_services": ("服务台账", "Service records"),
    "import.intro": (
        "按模板填写后上传 .xlsx 或 .csv 文件。每一行都按台账规则检查；只要有一行有问题，整个文件都不会写入。同一文件重复导入时，已有的记录不会重复写入。",
        "Fill in the template and upload it as .xlsx or .csv. Every row is checked by the register's rules; if any row "
        "has a problem, nothing from the file is written. Importing the same file again writes nothing twice.",
    ),
    "import.template_button": ("下载导入模板（.xlsx）", "Download the template (.xlsx)"),
    "import.template_help": (
        "模板第一页为列标题和一行示例（导入前请删除示例行），第二页列出您可以导入的村（社区）代码和名称。"
        "“村(社区)代码”列可填代码，也可填村名（如“岜沙村”，同名时在前面加乡镇名或填“乡镇(街道)”列）。身份证号、电话等列已设为文本格式。",
        "The first sheet has the column headers and one example row (delete it before importing); the second lists "
        "the codes and names of the villages you may import into. The village column takes a code or a village name "
        "(put the township first, or fill the township column, when two villages share a name). ID and phone columns "
        "are formatted as text.",
    ),
    "import.upload": ("选择文件（.xlsx 或 .csv）", "Choose a file (.xlsx or .csv)"),
    "import.upload_help": (
        "CSV 请保存为“CSV UTF-8（逗号分隔）”或 GBK 编码；文件不超过 {limit_mb} MB。",
        "Save CSV as 'CSV UTF-8 (comma delimited)' or in GBK; files up to {limit_mb} MB.",
    ),
    "import.dry_run": ("只检查，不写入", "Check only, write nothing"),
    "import.start": ("开始导入", "Import"),
    "import.start_check": ("开始检查", "Check"),
    "import.progress": ("已检查 {checked}/{total} 行，已写入 {written} 行", "Checked {checked} of {total} rows, written {written}"),
    "import.summary_written": (
        "导入完成：共 {rows} 行，写入 {committed} 行，已存在未重复写入 {unchanged} 行。",
        "Imported: {rows} rows, {committed} written, {unchanged} already present and not written again.",
    ),
    "import.summary_nothing_new": (
        "文件中的 {rows} 行都已存在（{unchanged} 行），本次没有写入任何记录。",
        "All {rows} rows of the file are already present ({unchanged}); nothing was written.",
    ),
    "import.summary_checked": (
        "检查通过：共 {rows} 行，可写入 {new} 行，已存在 {unchanged} 行。本次只检查，没有写入。",
        "Check passed: {rows} rows, {new} would be written, {unchanged} already present. Nothing was written.",
    ),
    "import.summary_rejected": (
        "文件未导入：发现 {errors} 处问题，没有写入任何记录。请按下表修改后重新上传。",
        Plural("The file was not imported: {errors} problem found, nothing was written. Fix it as listed and upload again.", "The file was not imported: {errors} problems found, nothing was written. Fix them as listed and upload again.", by="errors"),
    ),
    "import.download_errors": ("下载问题清单（CSV）", "Download the list of problems (CSV)"),
    "import.col_row": ("行号", "Row"),
    "import.col_column": ("列", "Column"),
    "import.col_reason": ("原因", "Reason"),
    "import.col_kind": ("类型", "Kind"),
    "import.kind_error": ("错误", "Error"),
    "import.kind_warning": ("提示", "Note"),
    "import.whole_file": ("整个文件", "Whole file"),
    "import.sheet_roster": ("对象台账", "Roster"),
    "import.sheet_visits": ("巡访记录", "Visits"),
    "import.sheet_services": ("服务台账", "Service records"),
    "import.service_unknown": ("“{name}”不是 {day} 生效的县级服务清单中的服务。", "\"{name}\" is not on the county's service list in force on {day}."),
    "import.provider_unknown": ("找不到提供该服务、仍在册并覆盖对象所在村的提供方“{name}”。", "No active provider \"{name}\" offers this service and reaches the person's village."),
    "import.provider_ambiguous": ("有多个名为“{name}”的提供方都符合，请在服务清单中把名称改得可区分。", "Several providers called \"{name}\" fit; give them distinct names under Services."),
    "import.sheet_villages": ("可导入的村(社区)", "Villages"),
    "import.risk_from_list": ("按导入名单确定的风险等级", "Risk level as given in the imported list"),
    "import.file_type": (
        "只能导入 .xlsx 或 .csv 文件。请在 Excel 中“另存为” Excel 工作簿（.xlsx）或 CSV UTF-8（逗号分隔）。",
        "Only .xlsx or .csv files can be imported. In Excel use Save As: Excel Workbook (.xlsx) or CSV UTF-8 (comma delimited).",
    ),
    "import.file_old_excel": (
        "这是旧版 Excel（.xls）或 WPS 格式文件，请在 Excel/WPS 中“另存为” Excel 工作簿（.xlsx）后再导入。",
        "This is an old Excel (.xls) or WPS file. Save it as an Excel Workbook (.xlsx) and import that.",
    ),
    "import.file_macro": (
        "含宏的工作簿（.xlsm）不能导入。请“另存为” Excel 工作簿（.xlsx，不含宏）后再导入。",
        "Workbooks with macros (.xlsm) cannot be imported. Save as an Excel Workbook (.xlsx, no macros) and import that.",
    ),
    "import.file_encrypted": (
        "工作簿设置了打开密码（已加密），无法读取。请在 Excel 中取消密码保护（文件 → 信息 → 保护工作簿）后另存为 .xlsx 再导入。",
        "The workbook is password-protected (encrypted) and cannot be read. Remove the password in Excel "
        "(File → Info → Protect Workbook), save as .xlsx and import that.",
    ),
    "import.file_not_xlsx": (
        "文件不是有效的 Excel 工作簿（.xlsx），可能已损坏或扩展名有误。请用 Excel 打开后“另存为” .xlsx 再导入。",
        "The file is not a valid Excel workbook (.xlsx); it may be damaged or misnamed. Open it in Excel and save as .xlsx.",
    ),
    "import.file_bomb": (
        "工作簿解压后的内容异常庞大（可能是恶意构造的文件），已拒绝读取。请只保留需要导入的数据，另存为新文件后再导入。",
        "The workbook expands to an abnormally large size (possibly a crafted file) and was refused. Keep only the "
        "data to import, save it as a new file and import that.",
    ),
    "import.file_too_large": ("文件超过 {limit_mb} MB，请分成几个文件导入。", "The file is over {limit_mb} MB; split it into several files."),
    "import.file_too_many_rows": ("文件超过 {limit} 行，请分成几个文件导入。", "The file has more than {limit} rows; split it into several files."),
    "import.file_too_wide": ("文件超过 {limit} 列，请使用导入模板。", "The file has more than {limit} columns; use the template."),
    "import.file_empty": ("文件是空的，或第一行没有列标题。", "The file is empty or its first row has no headers."),
    "import.file_merged_cells": (
        "第一个工作表有 {count} 处合并单元格（如 {ranges}）。合并后只有左上角的格子有值，其余格子读出来是空的。"
        "请选中整张表，取消合并单元格，在每一行填好各列后再导入。",
        Plural(
            "The first sheet has {count} merged cell range (e.g. {ranges}). A merged range keeps its value in its "
            "top-left cell only; the others read as empty. Select the whole sheet, unmerge the cells, fill every row "
            "and import again.",
            "The first sheet has {count} merged cell ranges (e.g. {ranges}). A merged range keeps its value in its "
            "top-left cell only; the others read as empty. Select the whole sheet, unmerge the cells, fill every row "
            "and import again.",
            by="count",
        ),
    ),
    "import.csv_encoding": (
        "无法识别 CSV 文件的编码（可能是 UTF-16“Unicode 文本”等格式）。请在 Excel 中“另存为” CSV UTF-8（逗号分隔）(*.csv)，或在 WPS 中保存为 GBK 编码的 CSV，再导入。",
        "The CSV file's encoding is not supported (it may be UTF-16 'Unicode text'). In Excel use Save As: "
        "CSV UTF-8 (comma delimited) (*.csv), or save it as GBK CSV in WPS, and import that.",
    ),
    "import.csv_encoding_named": (
        "CSV 文件的编码是 {encoding}（西文编码，不能保存中文）。请在 Excel 中“另存为” CSV UTF-8（逗号分隔）(*.csv)，再导入。",
        "The CSV file is in {encoding}, a Western encoding that cannot hold Chinese. In Excel use Save As: "
        "CSV UTF-8 (comma delimited) (*.csv), and import that.",
    ),
    "import.csv_is_workbook": (
        "文件扩展名是 .csv，但内容是 Excel 工作簿。请把扩展名改回 .xlsx，或“另存为” CSV UTF-8 后再导入。",
        "The file is named .csv but holds an Excel workbook. Rename it to .xlsx, or save it as CSV UTF-8.",
    ),
    "import.csv_malformed": ("CSV 文件格式有误（引号不配对等），请用 Excel 打开后重新保存。", "The CSV file is malformed (unbalanced quotes); open it in Excel and save it again."),
    "import.unknown_column": (
        "无法识别的列标题，该列的数据不会被导入。请使用导入模板中的列标题，或删除该列。",
        "Unknown column header: its data would not be imported. Use the template's headers or delete the column.",
    ),
    "import.repeated_column": ("该列标题出现了不止一次，请删除重复的列。", "This header appears more than once; delete the repeated column."),
    "import.missing_column": ("缺少必需的列，请使用导入模板。", "A required column is missing; use the template."),
    "import.required": ("此项必须填写。", "This cell must be filled in."),
    "import.relation_without_household": ("填写了与户主关系，但没有户号或户主身份证号，无法知道是哪一户。", "A relation to the head is given without a 户号 or the head's ID number, so the household is unknown."),
    "import.household_conflict": ("同一人在第 {other} 行填写的户号、户主或关系与本行不同；一人只能属于一户，请统一。", "Row {other} gives this person another household, head or relation; a person is in one household, so make them agree."),
    "import.household_two_villages": ("与第 {other} 行同属一户，但不在同一村（社区）；同户成员须在同一村。", "Same household as row {other} but another village; the members of a household live in one village."),
    "import.household_two_heads": ("此户已由第 {other} 行指定了另一位户主；一户只能有一位户主。", "Row {other} already names another head for this household; a household has one head."),
    "import.head_not_found": ("户主（{id_number}）既不在本文件中，也不在本村（社区）的名册上；请先登记户主或在文件中加入户主一行。", "The head ({id_number}) is neither in this file nor on this village's registers; register them first or add their row to the file."),
    "import.too_long": ("内容过长（最多 {limit} 个字），请精简后再导入，以免数据被截断。", "Too long ({limit} characters at most); shorten it so nothing is cut off."),
    "import.not_a_number": ("应填写数字。", "A number is expected."),
    "import.bad_date": (
        "日期“{value}”无法识别，请写成 2026-06-01 这样的格式。",
        "The date '{value}' is not recognised; write it like 2026-06-01.",
    ),
    "import.bad_choice": ("“{value}”不是可选的值。可选：{allowed}。", "'{value}' is not an allowed value. Allowed: {allowed}."),
    "import.column_not_for_group": (
        "这一行的关爱类别不使用此列，但此列有内容。请把该内容移到对应类别的行，或清空此列。",
        "This row's care group does not use this column, but it is filled in. Move the value to a row of the right group or clear it.",
    ),
    "import.example_row": ("这是模板中的示例行，请删除后再导入。", "This is the template's example row; delete it before importing."),
    "import.duplicate_in_file": ("与第 {other} 行重复。", "Repeats row {other}."),
    "import.conflicting_rows": (
        "与第 {other} 行是同一身份证号，但姓名或村（社区）代码不同，请核对。",
        "Same ID number as row {other} but a different name or village code; please check.",
    ),
    "import.person_not_found": (
        "没有找到该身份证号的在册对象，或该对象不在您的辖区（负责范围）内。请先在台账中登记。",
        "No active person with this ID number in your area (or caseload). Register the person first.",
    ),
    "import.no_enrollment": (
        "该对象没有此关爱类别的在册记录（或不由您负责）。",
        "This person has no active enrollment in this care group (or it is not assigned to you).",
    ),
    "import.group_needed": (
        "该对象同时在多个关爱类别中在册，请填写本次巡访的关爱类别。",
        "This person is enrolled in several care groups; fill in the care group of this visit.",
    ),
    "import.worker_unknown": (
        "您的辖区内没有名为“{name}”的工作人员（协调员只能填写本人）。",
        "No worker called '{name}' in your area (a coordinator may only name themselves).",
    ),
    "import.worker_ambiguous": (
        "辖区内有多名工作人员叫“{name}”，且都不是该对象的责任人，请留空或联系管理员。",
        "Several workers are called '{name}' and none is responsible for this person; leave it empty or ask the administrator.",
    ),
    # imports: the village of a roster row (by code or name), a registered person's row, the template
    "import.village_unknown": (
        "在您的辖区内没有找到村（社区）“{value}”。请填写 12 位村（社区）代码，或模板第二页中的村（社区）名称。",
        "No village '{value}' in your area. Enter the 12-digit village code or a village name from the template's second sheet.",
    ),
    "import.village_unknown_close": (
        "在您的辖区内没有找到村（社区）“{value}”。是否是：{suggestion}？",
        "No village '{value}' in your area. Did you mean: {suggestion}?",
    ),
    "import.village_ambiguous": (
        "“{value}”对应 {count} 个村（社区）：{candidates}。请改填村（社区）代码，或在名称前加上乡镇名称。",
        "'{value}' matches {count} villages: {candidates}. Enter the village code, or put the township's name first.",
    ),
    "import.village_code_length": (
        "村（社区）代码“{value}”应为 12 位数字。",
        "The village code '{value}' should be 12 digits.",
    ),
    "import.village_code_unknown": (
        "没有代码为“{value}”的村（社区）。请对照模板第二页中的代码填写。",
        "No village has the code '{value}'. Check it against the codes on the template's second sheet.",
    ),
    "import.village_not_in_township": (
        "村（社区）代码“{value}”是 {village}，不属于“乡镇(街道)”列所填的乡镇。",
        "The village code '{value}' is {village}, which is not in the township given in the township column.",
    ),
    "import.township_unknown": (
        "在您的辖区内没有找到乡镇（街道）“{value}”。",
        "No township '{value}' in your area.",
    ),
    "import.township_unknown_close": (
        "在您的辖区内没有找到乡镇（街道）“{value}”。是否是：{suggestion}？",
        "No township '{value}' in your area. Did you mean: {suggestion}?",
    ),
    "import.differs_from_register": (
        "该身份证号已登记，但此列与台账不一致：台账为“{registered}”，文件中为“{given}”。导入不会修改已登记的档案；"
        "请核对身份证号，改正文件，或先在对象档案中修改后再导入。",
        "This ID number is registered, but this column disagrees with the register: the register has '{registered}', "
        "the file '{given}'. An import does not change a registered file; check the ID number, correct the file, "
        "or edit the person's file first.",
    ),
    "import.register_empty": ("（空）", "(empty)"),
    "import.example_id_placeholder": ("（示例）18 位公民身份号码", "(example) 18-digit ID number"),
    "import.example_village_placeholder": ("（示例）村（社区）代码或名称", "(example) village code or name"),
}
