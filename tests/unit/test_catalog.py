"""The one catalog: no duplicate keys, both languages filled, every key the code names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from care import i18n
from care.domain import enums
from care.i18n import CATALOG, Plural, t
from care.scope import ROLE_ACTIONS

ROOT = Path(__file__).resolve().parents[2]


def _source_keys() -> list[tuple[str, str]]:
    """(key, module file) of every entry written in the catalog package's source."""
    found = []
    for path in sorted((ROOT / "care" / "i18n").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                found += [
                    (k.value, path.name)
                    for k in node.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str) and "." in k.value
                ]
    return found


def test_the_catalog_source_has_no_duplicate_keys():
    # A dict literal keeps the last of two equal keys silently, so read the source.
    keys = [k for k, _ in _source_keys()]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicates
    assert len(keys) == len(CATALOG)


def test_a_key_defined_twice_or_outside_its_module_stops_the_import():
    def module(name, prefixes, entries):
        return SimpleNamespace(__name__=name, PREFIXES=prefixes, ENTRIES=entries)

    one = module("one", ("a",), {"a.x": ("甲", "A")})
    with pytest.raises(i18n.CatalogError, match="defined twice"):
        i18n.merge((one, module("two", ("b",), {"b.y": ("乙", "B"), "a.x": ("甲", "A")})))
    with pytest.raises(i18n.CatalogError, match="prefix belongs to"):
        i18n.merge((one, module("two", ("b",), {"c.z": ("丙", "C")})))
    with pytest.raises(i18n.CatalogError, match="owned by both"):
        i18n.merge((one, module("two", ("a",), {})))
    assert i18n.merge((one,)) == {"a.x": ("甲", "A")}


def test_each_key_lives_in_the_module_of_its_prefix():
    owner = {p: m.__name__.rsplit(".", 1)[1] + ".py" for m in i18n.MODULES for p in m.PREFIXES}
    assert [(k, f) for k, f in _source_keys() if owner.get(k.split(".")[0]) != f] == []


def _english(en: str | Plural) -> tuple[str, ...]:
    return (en.one, en.other) if isinstance(en, Plural) else (en,)


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_entry_has_chinese_and_english(key):
    zh, en = CATALOG[key]
    assert isinstance(zh, str), "only the English side may be a Plural"
    assert zh.strip() and all(e.strip() for e in _english(en))
    assert re.search(r"[\u4e00-\u9fff]", zh) or key.startswith("app.language"), key


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_both_languages_take_the_same_placeholders(key):
    zh, en = CATALOG[key]
    wanted = i18n.fields(zh)  # also: a stray brace raises ValueError
    if isinstance(en, Plural):
        # the singular may spell the count out ("One visit"), but names nothing Chinese does not
        assert en.by in wanted, f"{key}: the count {en.by!r} is not a parameter"
        assert i18n.fields(en.other) == wanted
        assert i18n.fields(en.one) <= wanted
    else:
        assert i18n.fields(en) == wanted


@pytest.mark.parametrize("key", sorted(k for k, (zh, en) in CATALOG.items() if "{" in zh + "".join(_english(en))))
def test_every_message_formats_with_its_placeholders(key):
    zh, _ = CATALOG[key]
    params = dict.fromkeys(i18n.fields(zh), 1)
    for lang in i18n.LANGS:
        for n in (1, 2):
            shown = t(key, lang, **dict.fromkeys(params, n))  # strict: a bad entry raises
            assert not [p for p in params if "{" + p + "}" in shown], (key, lang, shown)


# Dotted names in the code that share a catalog prefix but are not labels: settings keys and
# audit actions passed positionally.
NOT_LABELS = {"map.tiles", "policy.version", "risk.refreshed_on", "backup.restore"}
# Audit actions chosen by a condition (care/services/persons.py open_contact); labelled as audit.action.*.
NOT_LABELS |= {"person.call", "person.navigate"}
# A foreign key's target table and column; service-list audit actions passed positionally.
NOT_LABELS |= {"needs.id", "service.save", "service.end"}


def _code_files() -> list[Path]:
    """The app's code (not the catalog, not the tests), and the offline pack's script, which names keys too."""
    files = [p for d in ("care", "pages", "ui", "db") for p in (ROOT / d).rglob("*.py") if "i18n" not in p.parts]
    return [*files, ROOT / "app.py", *(ROOT / "care" / "data").glob("*.js")]


def _keys_named_in_code() -> set[str]:
    """Every quoted "<prefix>.<name>" in the code whose prefix is one the catalog uses."""
    prefixes = "|".join(sorted({re.escape(key.split(".")[0]) for key in CATALOG}))
    # ... and, whatever its prefix, the first argument of an error or of a catalog lookup.
    pattern = re.compile(
        rf"""["']((?:{prefixes})\.[a-z0-9_.]+)["']|(?:Error|NotFound|Denied|\bt)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']"""
    )
    found: set[str] = set()
    for path in _code_files():
        found.update(k for pair in pattern.findall(path.read_text(encoding="utf-8")) for k in pair if k)
    return found


def _action_names() -> set[str]:
    """Permission and audit action names share the dotted shape but are not catalog keys."""
    names = {a for actions in ROLE_ACTIONS.values() for a in actions}
    names |= {k.removeprefix("audit.action.") for k in CATALOG if k.startswith("audit.action.")}
    for path in _code_files():
        names.update(re.findall(r"""action\s*=\s*["']([a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    return names


def test_every_catalog_key_named_in_the_code_exists():
    named = _keys_named_in_code() - _action_names() - NOT_LABELS
    missing = sorted(k for k in named if k not in CATALOG and not k.endswith((".", "_", ".py")))
    assert not missing


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("group", enums.GROUPS),
        ("risk", enums.RISKS),
        ("status", enums.PERSON_STATUSES),
        ("guardianship", enums.GUARDIANSHIP),
        ("schooling", enums.SCHOOLING),
        ("living_arrangement", enums.LIVING),
        ("self_care", enums.SELF_CARE),
        ("category", enums.DISABILITY_CATEGORIES),
        ("grade", enums.DISABILITY_GRADES),
        ("visit_status", enums.VISIT_STATUSES),
        ("mode", enums.VISIT_MODES),
        ("need_kind", enums.NEED_KINDS),
        ("need_status", enums.NEED_STATUSES),
        ("role", enums.ROLES),
        ("worker_kind", enums.WORKER_KINDS),
        ("subtype", tuple(v for vs in enums.SUBTYPES.values() for v in vs)),
        ("exit_reason", tuple(v for vs in enums.EXIT_REASONS.values() for v in vs)),
    ],
)
def test_every_enum_value_has_a_label(name, values):
    for value in values:
        assert f"enum.{name}.{value}" in CATALOG


def test_english_is_switchable_and_unknown_keys_show_themselves():
    assert t("nav.registers", "en") == "Registers"
    assert t("nav.registers") == "对象台账"
    assert t("no.such.key") == "no.such.key"
    assert t("error.stale_record", "zh", seen=3, now=4).count("3") == 1


def test_every_field_an_error_can_name_has_a_form_label():
    fields: set[str] = set()
    for path in (ROOT / "care").rglob("*.py"):
        fields.update(re.findall(r"""field\s*=\s*["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
    from care.services.persons import PERSON_FIELDS

    fields.update(PERSON_FIELDS)
    assert sorted(f for f in fields if f"form.{f}" not in CATALOG) == []


def test_shares_show_as_percentages_with_one_decimal_and_counts_with_separators():
    from care.i18n import NO_VALUE, count, percent

    assert [percent(v) for v in (0.5, 0.12345, 1, 0, None, float("nan"))] == [
        "50.0%",
        "12.3%",
        "100.0%",
        "0.0%",
        NO_VALUE,
        NO_VALUE,
    ]
    assert [count(n) for n in (0, 999, 13056, 1_000_000)] == ["0", "999", "13,056", "1,000,000"]


# --- every key is used -------------------------------------------------------------------------
# Keys the code builds at run time, by the prefix it joins a name to. Each is built in one place
# named here, from a closed set of names (an enum, a list of columns, figures or steps); a key of
# one of these prefixes counts as used. Keep this list to what the code really builds:
# test_every_prefix_built_at_run_time_is_declared keeps it complete and without stale entries.
DYNAMIC = {
    # labels of stored values: ui.label(name, value), f"enum.{name}.{value}" in imports, exports, the pack
    "enum.": "stored values",
    # form.<field>: the label of each form field, from the field an error or a form names (ui/forms.py, audit_text)
    "form.": "form fields",
    "fact.": "a person's facts by name (ui/person_file.py, care/audit_text.py)",
    # the audit log shows what was recorded: f"audit.action.{action}", entity, detail key (care/audit_text.py)
    "audit.action.": "recorded actions",
    "audit.entity.": "recorded entities",
    "audit.key.": "recorded detail keys",
    # care/ids.py checks ID and certificate numbers alike, f"{prefix}.empty" with prefix "id" or "certificate"
    "id.": "ID number checks",
    "certificate.": "certificate number checks",
    # one label per column, figure, sheet, list, group or bucket of the reports and their files
    "report.col.": "report columns (care/exports.py, care/report_pdf.py, ui/reports_view.py)",
    "report.kpi.": "report figures",
    "report.sheet.": "workbook sheets",
    "report.list.": "lists of persons",
    "report.group.": "care groups in the trends",
    "report.visit_age.": "visit age buckets",
    "report.household.": "household figures",
    "report.build_": "f'report.build_{fmt}' per file format",
    "report.download_": "f'report.download_{fmt}' per file format",
    "report.bucket.": "need age buckets (care/exports.py value labels)",
    "report.id_problem.": "ID problems (care/exports.py value labels)",
    "report.change.": "register changes (care/exports.py value labels)",
    "report.quality.": "data quality checks (care/exports.py value labels)",
    "report.service.review.": "plan review reasons (care/exports.py value labels)",
    # the map: colours, states, legends, layers and placements (care/maps.py, pages/map.py, ui/map_view.py)
    "map.state.": "visit states",
    "map.mark.": "marks",
    "map.legend.": "legends",
    "map.layer.": "layers by level",
    "map.placed.": "how a village is placed",
    "map.placement.": "placement counts",
    "map.mode.": "map modes",
    "map.color.": "colour choices",
    "map.tiles.": "tile problems (care/tiles.py)",
    "map.basemap.kind.": "base map kinds",
    "home.list.": "worklists (pages/home.py, pages/registers.py)",
    "home.ranking.": "rankings by level and their columns (ui/home_view.py)",
    "home.col_": "home table columns",
    "visit.area.": "finding areas of a visit (ui/visit_form.py, the pack)",
    "my_visits.show.": "my visits filter",
    "my_visits.state.": "visit states of my visits",
    "needs.show.": "needs filter",
    "timeline.kind.": "timeline event kinds",
    "timeline.cause.": "risk change causes",
    "household.location_": "where a member lives",
    "enrollment.child_too_old.": "by child subtype (care/services/facts.py)",
    "age_limit.bad.": "by child subtype (care/services/age_limits.py)",
    "age_limit.col_": "age limit table columns",
    "policy.col_": "policy table columns",
    "schedule.weekday.": "weekdays of the sheet",
    "check.": "checklist per care group (care/schedule_sheet.py)",
    "setup.step.": "first-run build steps",
    "diary.row.": "diary row kinds",
    "order.col.": "order table columns",
    "pack.conflict.": "pack conflicts",
    "pack.resolve.": "pack conflict resolutions",
    "import.kind_": "import kinds",
    "import.sheet_": "template sheets per kind",
    "admin.tab.": "administration tabs",
    "admin.merge.mode_": "merge modes",
    "admin.codes.": "area code import box (f'admin.{kind}.help' in ui/admin_areas.py)",
    "admin.bounds.": "boundary import box (same)",
    "area.datum.": "coordinate datums",
    "area.skip_kind.": "skipped row kinds (care/services/areas.py)",
    # a risk's reasons are stored with the enrollment and shown by key; the pack ships them all
    "risk.reason.": "risk reasons (care/rules.py, care/visit_pack.py)",
}
# Built from a name held in a variable, so no head of them shows in the code.
BUILT_FROM_A_NAME = {"id.", "certificate."}
# Dotted heads the code builds that are not catalog keys: permissions and audit actions, figure
# names of the home page, a CSS selector.
NOT_KEY_HEADS = {"import.", "export.", "list.", "td.total"}

_LITERAL = re.compile(r"""["']([a-z_]+\.[A-Za-z0-9_.+\-]*[A-Za-z0-9_+\-])["']""")
# the static start of a key built at run time: f"map.state.{s}", "visit.area." + a, "report.bucket."
_HEAD = re.compile(r"""["']([a-z_]+\.[A-Za-z0-9_.]*)(?:\{|["']\s*\+)|["']([a-z_]+\.(?:[a-z0-9_]+\.)*)["']""")


def _heads_built_in_code() -> set[str]:
    heads: set[str] = set()
    for path in _code_files():
        heads.update(h for pair in _HEAD.findall(path.read_text(encoding="utf-8")) for h in pair if h)
    return heads


def test_every_catalog_key_is_used():
    named: set[str] = set()
    for path in _code_files():
        named.update(_LITERAL.findall(path.read_text(encoding="utf-8")))
    unused = sorted(k for k in CATALOG if k not in named and not k.startswith(tuple(DYNAMIC)))
    assert unused == []


def test_every_prefix_built_at_run_time_is_declared():
    heads = _heads_built_in_code()
    keyish = {h for h in heads if any(k.startswith(h) for k in CATALOG)} - NOT_KEY_HEADS
    undeclared = sorted(h for h in keyish if not any(h.startswith(p) or p.startswith(h) for p in DYNAMIC))
    assert undeclared == []
    stale = sorted(
        p for p in set(DYNAMIC) - BUILT_FROM_A_NAME if not any(p.startswith(h) or h.startswith(p) for h in keyish)
    )
    assert stale == []
    assert all(any(k.startswith(p) for k in CATALOG) for p in DYNAMIC)


# --- formatting errors ---------------------------------------------------------------------------
def test_a_formatting_error_raises_under_the_tests(monkeypatch):
    monkeypatch.setitem(CATALOG, "test.message", ("共 {n} 条", "{n} rows {"))
    assert t("test.message", "zh", n=3) == "共 3 条"
    with pytest.raises(i18n.CatalogFormatError):
        t("test.message", "en", n=3)  # a stray brace
    with pytest.raises(i18n.CatalogFormatError):
        t("test.message", "zh", count=3)  # the placeholder's argument is missing
    with pytest.raises(i18n.CatalogFormatError):
        t("test.message", "zh")  # no arguments at all


def test_at_run_time_a_formatting_error_shows_the_raw_text_and_is_logged(monkeypatch, caplog):
    monkeypatch.setitem(CATALOG, "test.message", ("共 {n} 条", "{n} rows"))
    old = i18n.set_strict(False)
    try:
        assert t("test.message", "en", count=3) == "{n} rows"
        assert t("test.message", "zh") == "共 {n} 条"
    finally:
        i18n.set_strict(old)
    assert "test.message" in caplog.text
    assert old is True, "the tests run in strict mode"


# --- English plurals -----------------------------------------------------------------------------
def test_english_counts_read_singular_for_one_and_plural_otherwise():
    assert t("schedule.unlocated", "en", n=1).startswith("1 household has no coordinates; it is last on its")
    assert t("schedule.unlocated", "en", n=2).startswith("2 households have no coordinates; they are last")
    assert t("schedule.unlocated", "en", n=0).startswith("0 households have")
    assert t("audit.total", "en", total="1", page=1, pages=1) == "1 event, page 1 of 1"
    assert t("audit.total", "en", total="1,001", page=1, pages=9) == "1,001 events, page 1 of 9"
    assert t("needs.count", "en", n=1) == "1 need (oldest first)"
    # Chinese has no plural: the same text whatever the count
    assert t("needs.count", "zh", n=1) == "共 1 条（最早登记的在前）"


def test_a_plural_picks_by_the_parameter_it_names():
    form = Plural("{count} row skipped", "{count} rows skipped", by="count")
    assert form.pick({"count": 1}) == "{count} row skipped"
    assert [form.pick({"count": c}) for c in (0, 2, "1", "1,000", None)] == [form.other] * 2 + [form.one] + [
        form.other
    ] * 2


PLURAL_NOUN = re.compile(
    r"\{(n|count|total)\} (?:[a-z]+ )?(enrollments|households|workers|persons|villages|members|needs|entries|"
    r"rows|problems|events|logins|visits|features|days)\b"
)


def test_counted_english_messages_have_a_singular():
    # An English message that counts one thing by n, count or total ("{n} visits are ...") needs a Plural,
    # unless the count is never 1 (a lower bound, a limit) or several counts share the message.
    never_one_or_several = {
        "import.village_ambiguous",  # two or more villages match
        "home.alert_overdue",  # enrollments and persons counted together
        "map.placement.unplaced",
        "import.progress",
        "pack.counts",
        "pack.check_counts",
        "policy.preview_text",
        "report.list_shown",  # shown only when there are more rows than the first ones shown
    }
    plain = sorted(
        k
        for k, (_, en) in CATALOG.items()
        if isinstance(en, str) and PLURAL_NOUN.search(en) and k not in never_one_or_several
    )
    assert plain == []


def test_no_english_text_hedges_its_plural():
    # "3 order(s)" reads as a form, not a sentence: a counted message says one or the other by the count.
    hedged = sorted(k for k, (_, en) in CATALOG.items() if any("(s)" in text for text in _english(en)))
    assert hedged == []
