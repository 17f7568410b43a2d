"""The map page (关爱地图) and the location picker.

Keys: ``map.``, ``location.``. Each entry is ``key: (zh, en)``; see care/i18n/__init__.py."""

from __future__ import annotations

from care.i18n.entry import Entry, Plural

PREFIXES = ("map", "location")

ENTRIES: dict[str, Entry] = {
    "map.title": ("总览地图", "Map"),
    "map.groups": ("关爱类别（图层）", "Care groups (layers)"),
    "map.risk": ("风险等级", "Risk"),
    "map.state": ("巡访状态", "Visit status"),
    "map.worker": ("责任人", "Responsible worker"),
    "map.worker_none": ("（无人负责）", "(nobody assigned)"),
    "map.color_by": ("着色依据", "Colour by"),
    "map.color.status": ("巡访状态", "Visit status"),
    "map.color.risk": ("风险等级", "Risk"),
    "map.all": ("全部", "All"),
    "map.state.overdue": ("逾期未访", "Overdue"),
    "map.state.due_soon": ("7 日内到期", "Due within 7 days"),
    "map.state.on_time": ("按期", "On time"),
    "map.state.never": ("从未走访", "Never visited"),
    "map.risk_label": ("{risk}风险", "{risk} risk"),
    "map.legend.status": ("巡访状态", "Visit status"),
    "map.legend.risk": ("风险等级", "Risk"),
    "map.legend.village": ("村汇总：逾期人数占比", "Villages: share overdue"),
    "map.legend.township": ("乡镇汇总：逾期人数占比", "Townships: share overdue"),
    "map.legend.county": ("县汇总：逾期人数占比", "Counties: share overdue"),
    "map.legend.size": ("圆圈大小 = 在册人数", "Circle size = persons on the registers"),
    "location.title": ("在地图上点选位置", "Set the location on the map"),
    "location.start_village": ("从哪个村的中心开始", "Start from the centre of village"),
    "location.no_centre": (
        "{village}还没有中心位置（未导入坐标或边界），地图显示附近的乡镇或全县：请放大后点选。",
        "{village} has no centre yet (no coordinates or boundary imported); the map shows the township "
        "or county around it: zoom in and click.",
    ),
    "location.none_yet": (
        "还没有位置：此人在地图上不显示。点击地图，或在表单中填写纬度和经度。",
        "No location yet: this person is not on the map. Click the map, or type the latitude and longitude in the form.",
    ),
    "location.chosen": (
        "已选位置：纬度 {lat}，经度 {lon}（已填入表单，保存后生效）。",
        "Chosen: latitude {lat}, longitude {lon} (filled into the form; saved when the form is).",
    ),
    "location.clear": ("清除位置", "Clear the location"),
    "map.layer.marks": ("位置", "Location"),
    "map.legend.home": ("粗边大圆点：同住一户的多人（点击查看成员）", "Large ringed dot: several members of one household (click for the members)"),
    "map.home.title": ("同户 {n} 人", "Household of {n}"),
    "map.home.panel": ("家庭户 · {village}", "Household · {village}"),
    "map.home.members": ("本户成员 {n} 人（地图上的人数仍按人计）", Plural("{n} member (the map's counts stay per person)", "{n} members (the map's counts stay per person)")),
    "map.legend.pick": ("点击地图设置位置", "Click the map to set the location"),
    "map.mark.chosen": ("所选位置", "Chosen location"),
    "map.mark.centre": ("村中心（起点）", "Village centre (starting point)"),
    "map.layer.boundaries": ("行政区界", "Boundaries"),
    "map.layer.village": ("村汇总", "Villages"),
    "map.layer.township": ("乡镇汇总", "Townships"),
    "map.layer.county": ("县汇总", "Counties"),
    "map.village_counts": ("在册 {persons} 人，逾期 {overdue} 人（{share}%）", "{persons} persons, {overdue} overdue ({share}%)"),
    "map.counts": (
        "截至 {day}，地图范围内在册 {persons} 人，逾期 {overdue} 人（按人计）",
        "As of {day}: {persons} persons on the registers in view, {overdue} overdue (persons)",
    ),
    "map.more_filters": ("更多筛选：类别、风险、巡访状态、责任人、着色", "More filters: group, risk, visit state, worker, colours"),
    "map.mode.township": (
        "全市按乡镇汇总显示（圆圈 = 乡镇），边界为各县。选择县、乡镇或村，或点击圆圈，查看具体人员。",
        "The city is shown by township (one circle per township) within its counties. Choose a county, township or village, or click a circle, to see persons.",
    ),
    "map.mode.county": (
        "全省按县汇总显示（圆圈 = 县）。选择县、乡镇或村，或点击圆圈，查看具体人员。",
        "The province is shown by county (one circle per county). Choose a county, township or village, or click a circle, to see persons.",
    ),
    "map.mode.village": (
        "全县按村汇总显示（圆圈 = 村）。选择乡镇或村，或点击村庄圆圈，查看具体人员。",
        "The county is shown by village (one circle per village). Choose a township or village, or click a circle, to see persons.",
    ),
    "map.mode.persons": ("每个点是一名对象；同住一户的多人合为一个粗边大圆点；点击查看摘要。", "Each dot is one person; several members of one household at one place are one large ringed dot; click for a summary."),
    "map.missing": ("{n} 人未标注位置", Plural("{n} person has no location", "{n} persons have no location")),
    "map.missing_none": ("所有对象均已标注位置。", "Every person has a location."),
    "map.pick_hint": ("点击地图上的人员或村庄圆圈，在此查看详情。", "Click a person or a village circle on the map to see details here."),
    "map.open_file": ("打开档案", "Open file"),
    "map.not_found": ("该对象不存在或不在您的辖区内。", "This person does not exist or is outside your area."),
    "map.summary.id": ("公民身份号码", "ID number"),
    "map.summary.place": ("住址", "Address"),
    "map.summary.no_location": ("未标注位置", "No location"),
    "map.summary.group": ("类别", "Group"),
    "map.summary.last_visit": ("上次巡访", "Last visit"),
    "map.summary.next_due": ("下次巡访", "Next visit due"),
    "map.summary.worker": ("责任人", "Worker"),
    "map.summary.never": ("从未", "never"),
    "map.summary.nobody": ("无人负责", "nobody"),
    "map.village_list": ("{village}：{total} 人", Plural("{village}: {total} person", "{village}: {total} persons", by="total")),
    "map.list_capped": ("仅列出前 {shown} 人（共 {total} 人），请用筛选条件缩小范围。", "Showing the first {shown} of {total}; narrow the filters."),
    "map.show_village": ("在地图上查看本村人员", "Show this village's persons on the map"),
    "map.show_area": ("在地图上打开该地区", "Open this area on the map"),
    "map.pick_row": ("在列表中选择一人，然后点击“打开档案”。", "Select a person in the list, then press Open file."),
    "map.download": ("下载离线地图（HTML）", "Download offline map (HTML)"),
    "map.tiles.tianditu_key_missing": (
        "底图设为天地图，但未配置 CARE_TIANDITU_KEY：只显示行政区界。",
        "Tiles are set to Tianditu but CARE_TIANDITU_KEY is not set: only boundaries are drawn.",
    ),
    "map.tiles.tiles_unknown": ("底图设置无法识别：只显示行政区界。", "The tile setting is not recognised: only boundaries are drawn."),
    "map.basemap.kind.osm": ("OpenStreetMap 开放街道地图", "OpenStreetMap"),
    "map.basemap.kind.tianditu": ("天地图", "Tianditu"),
    "map.basemap.kind.amap": ("高德地图", "AMap"),
    "map.basemap.kind.custom": ("本单位瓦片服务", "your own tile server"),
    "map.basemap.needs": (
        "底图：{name}。打开本地图时需要能访问 {hosts}；不能访问时只显示行政区界和点位。",
        "Basemap: {name}. This map needs access to {hosts}; without it only boundaries and points are shown.",
    ),
    "map.basemap.this_server": (
        "底图：本系统服务器上的瓦片（{url}）。离线打开本文件时没有底图，只显示行政区界和点位。",
        "Basemap: tiles on this system's own server ({url}). Opened offline, this file shows boundaries and points without a basemap.",
    ),
    "map.basemap.none": (
        "没有底图（底图设置为 none）：只显示行政区界和点位，不访问任何网络。",
        "No basemap (the tile setting is none): only boundaries and points, and no network access.",
    ),
    "map.basemap.failed": (
        "底图无法加载：需要访问 {hosts}。内网或离线使用时，请管理员用 python -m care.admin set-tiles 设置内网瓦片服务地址或 none。",
        "The basemap cannot load: it needs {hosts}. On an intranet or offline, an administrator sets your own tile "
        "server or none with python -m care.admin set-tiles.",
    ),
    "map.basemap.default_used": (
        "未配置底图：使用默认的 OpenStreetMap，文件打开时需要访问 tile.openstreetmap.org。内网请用 --tiles none 或 --tiles 内网瓦片地址。",
        "No basemap is configured: the default OpenStreetMap is used, and the file needs tile.openstreetmap.org. "
        "On an intranet use --tiles none or --tiles with your tile server's URL.",
    ),
    "map.basemap.set": ("底图设置为 {value}（{kind}）。", "The basemap is set to {value} ({kind})."),
    "map.col.state": ("巡访状态", "Visit status"),
    "map.col.worker": ("责任人", "Worker"),
    "map.col.persons": ("在册人数", "Persons"),
    "map.col.overdue": ("逾期人数", "Overdue"),
    "map.placed.persons": ("位置按本村对象的平均位置估算", "Placed at the mean location of this village's persons (estimated)"),
    "map.placed.township": ("位置按所属乡镇估算", "Placed at its township (estimated)"),
    "map.placed.villages": ("位置按下辖各村的平均位置估算", "Placed at the mean of its villages' centres (estimated)"),
    "map.placement.persons": ("{n} 个村的位置按本村对象的平均位置估算", Plural("{n} village placed at the mean location of its persons", "{n} villages placed at the mean location of their persons")),
    "map.placement.township": ("{n} 个村的位置按所属乡镇估算", Plural("{n} village placed at its township", "{n} villages placed at their township")),
    "map.placement.unplaced": (
        "{n} 个村（{persons} 人）没有任何位置信息，未在地图上显示",
        "{n} villages ({persons} persons) have no location at all and are not on the map",
    ),
    "map.bounds.none": (
        "本辖区的行政区划和对象都没有坐标或边界，地图只能显示全球范围。请导入行政区划边界或补充坐标。",
        "Neither the areas nor the persons here have coordinates or a boundary, so the map shows the whole world. "
        "Import area boundaries or add coordinates.",
    ),
}
