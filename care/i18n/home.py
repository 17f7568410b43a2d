"""The home page (首页): figures, worklists, rankings.

Keys: ``home.``. Each entry is ``key: (zh, en)``; see care/i18n/__init__.py."""

from __future__ import annotations

from care.i18n.entry import Entry, Plural

PREFIXES = ("home",)

ENTRIES: dict[str, Entry] = {
    "home.title": ("首页", "Home"),
    "home.persons": ("在册对象（人）", "On the registers (persons)"),
    "home.overdue": ("逾期未巡访（条）", "Overdue (enrollments)"),
    "home.due_soon": ("7 日内到期（条）", "Due within 7 days (enrollments)"),
    "home.high_risk": ("高风险（条）", "High risk (enrollments)"),
    "home.unassigned": ("未分配责任人（条）", "Nobody assigned (enrollments)"),
    "home.never_visited": ("从未巡访（条）", "Never visited (enrollments)"),
    "home.as_of": (
        "截至 {day}。“人”按对象计，一人在多个类别只计一次；“条”按在册记录计，一人一类一条。",
        "As of {day}. Persons count each person once; enrollments count each person once per care group.",
    ),
    "home.by_group": ("分类在册情况", "By care group"),
    "home.col_group": ("类别", "Group"),
    "home.col_enrolled": ("在册", "Enrolled"),
    "home.col_high_risk": ("高风险", "High risk"),
    "home.col_overdue": ("逾期", "Overdue"),
    "home.alert_overdue": (
        "有 {n} 条在册记录（{persons} 人）的巡访已逾期，请督促落实。",
        "{n} enrollments ({persons} persons) are overdue for a visit.",
    ),
    "home.alert_unassigned": ("有 {n} 条在册记录尚未分配责任人。", Plural("{n} enrollment has nobody assigned.", "{n} enrollments have nobody assigned.")),
    "home.age_out_title": ("即将超出年龄上限的儿童（90 天内）", "Children reaching their age limit (within 90 days)"),
    "home.age_out_help": (
        "各类儿童按本类别的年龄上限退出：留守儿童未满 16 周岁，困境儿童、事实无人抚养儿童未满 18 周岁"
        "（本县另有规定的以系统管理中的设置为准）。年满上限后请及时办理退出（动态调整）；"
        "同时符合其他类别的，可改为该类别继续在册。",
        "Each child leaves the register at the age limit of their sub-type: left-behind children under 16, "
        "children in difficulty and de facto unsupported children under 18 (or the county's own limits set "
        "by the administrator). Record the exit in time; a child who fits another sub-type can be changed "
        "to it and stay on the register.",
    ),
    "home.age_out_none": ("近期没有即将超出年龄上限的在册儿童。", "No enrolled child reaches their age limit soon."),
    "home.col_age_limit": ("年龄上限（周岁）", "Age limit (years)"),
    "home.col_ages_out_on": ("达到上限日期", "Reaches the limit on"),
    "home.go_assign": ("去服务分配", "Go to assignments"),
    "home.go_schedule": ("去巡访排班", "Go to patrol schedules"),
    "home.alert_orders": ("有 {n} 张服务工单已过完成期限。", Plural("{n} service order is past its due date.", "{n} service orders are past their due date.")),
    "home.worklist": ("待办清单", "Worklist"),
    "home.go_overdue": ("查看逾期对象名单", "See who is overdue"),
    "home.my_week": ("本周巡访（{start} 至 {end}）", "This week's visits ({start} to {end})"),
    "home.today": ("今天计划走访", "Planned for today"),
    "home.week_due": ("本周待访", "Still to visit this week"),
    "home.week_overdue": ("其中已逾期", "Of which overdue"),
    "home.week_done": ("本周已访", "Visited this week"),
    "home.go_my_visits": ("去我的巡访", "Go to my visits"),
    "home.worklist_help": ("每项是对象台账中的一份名单（按人计）；点开即是已筛好的台账。", "Each is a list of the register (persons); open it to see the register filtered to it."),
    "home.list.overdue": ("巡访已逾期的对象", "Persons with a visit overdue"),
    "home.list.unassigned": ("无人负责的对象", "Persons nobody is assigned to"),
    "home.list.never_visited": ("从未巡访的对象", "Persons never visited"),
    "home.list.high_risk_unvisited": ("本月未探访的高风险对象", "High-risk persons not visited this month"),
    "home.list.high_risk_no_plan": ("尚无生效服务计划的高风险对象", "High-risk persons without a plan in force"),
    "home.ranking.township": ("各乡镇本月缺口", "Townships by this month's shortfalls"),
    "home.ranking.village": ("各村本月缺口", "Villages by this month's shortfalls"),
    "home.ranking_help": ("按当前逾期排序，其次是本月未探访的高风险和无人负责（均按在册人次计）；选中一行可打开该地的逾期名单。", "Ranked by visits overdue now, then high-risk enrollments not visited this month, then unassigned ones; pick a row to open that area's overdue list."),
    "home.ranking.col.township": ("乡镇", "Township"),
    "home.ranking.col.village": ("村", "Village"),
    "home.ranking.county": ("各县本月缺口", "Counties by this month's shortfalls"),
    "home.ranking.col.county": ("县", "County"),
    "home.ranking.city": ("各市本月缺口", "Cities by this month's shortfalls"),
    "home.ranking.col.city": ("市", "City"),
    "home.ranking.col.name": ("地区", "Area"),
    "home.ranking.col.overdue": ("当前逾期", "Overdue now"),
    "home.ranking.col.high_risk_unvisited": ("高风险本月未探访", "High risk not visited this month"),
    "home.ranking.col.unassigned": ("无人负责", "Unassigned"),
    "home.ranking.col.not_visited": ("本月未探访", "Not visited this month"),
    "home.ranking.col.visited_share": ("本月已探访比例", "Visited this month"),
    "home.ranking.col.enrolled": ("在册人次", "Enrollments"),
    "home.ranking.col.persons": ("在册人数", "Persons"),
    "home.ranking_open": ("打开{area}的逾期名单", "Open the overdue list of {area}"),
    "home.empty": ("辖区内还没有在册对象。名册由县级系统管理员或乡镇督导员导入，请与他们联系。", "Nobody is on the registers in your area yet. The county's system administrator or the township supervisors import the rosters: ask them."),
    "home.empty_import": ("辖区内还没有在册对象。可在“导入”页导入名册（模板可在该页下载），或逐个新增对象。", "Nobody is on the registers in your area yet. Import the rosters on the Imports page (its templates are there), or add persons one by one."),
    "home.go_imports": ("去导入名册", "Import the rosters"),
    "home.go_person_new": ("新增对象", "Add a person"),
    "home.needs_title": ("等待最久的需求", "Needs waiting longest"),
    "home.needs_none": ("辖区内没有未办结的需求。", "No need is open in your area."),
    "home.needs_help": ("共 {n} 条未办结（待处理或处理中），以下是提出最早的几条。", "{n} open (waiting or in progress); these were raised first."),
    "home.needs_col.status": ("状态", "Status"),
    "home.needs_col.days": ("已等待（天）", "Waiting (days)"),
    "home.go_needs": ("查看全部需求", "All needs"),
    "home.alert_plans": ("有 {n} 份服务计划等待审批。", Plural("{n} care plan waits for approval.", "{n} care plans wait for approval.")),
    "home.go_services": ("去处理服务工单和计划", "Go to service orders and plans"),
}
