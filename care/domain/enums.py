"""Allowed values of every coded field. Labels live in the catalog as ``enum.<name>.<value>``."""

from __future__ import annotations

from care.domain.errors import ValidationError

GROUPS = ("child", "elderly", "disabled")
RISKS = ("high", "medium", "low")
RISK_ORDER = {"high": 0, "medium": 1, "low": 2}

SUBTYPES: dict[str, tuple[str, ...]] = {
    "child": ("left_behind", "distressed", "unsupported"),
    "elderly": ("alone", "empty_nest", "left_behind", "disabled_elderly", "severe_disabled", "special_family"),
    "disabled": ("certified", "uncertified"),
}
GUARDIANSHIP = ("grandparent", "relative", "one_parent", "none")
SCHOOLING = ("preschool", "primary", "junior", "senior", "vocational", "out_of_school", "not_school_age")
LIVING = ("alone", "with_spouse", "with_relatives", "institution")
SELF_CARE = ("full", "partial", "none")
DISABILITY_CATEGORIES = (1, 2, 3, 4, 5, 6, 7)
DISABILITY_GRADES = (1, 2, 3, 4)

PERSON_STATUSES = ("active", "exited", "deceased", "moved")
EXIT_REASONS: dict[str, tuple[str, ...]] = {
    "child": ("aged_out", "parent_returned", "guardianship_restored", "moved", "died", "other"),
    "elderly": ("children_returned", "institution", "moved", "died", "other"),
    "disabled": ("certificate_cancelled", "moved", "died", "other"),
}
VISIT_STATUSES = ("planned", "done", "not_met", "cancelled")
VISIT_MODES = ("home", "phone", "third_party", "volunteer")
NEED_KINDS = ("medical", "schooling", "subsidy", "rehab", "assistive_device", "guardianship", "other")
NEED_STATUSES = ("open", "in_progress", "resolved")
# The roles inside one county (what its administrator hands out), then the viewers above it.
COUNTY_ROLES = ("county", "township", "coordinator", "admin")
ABOVE_COUNTY_ROLES = ("city", "province")
ROLES = (*COUNTY_ROLES, *ABOVE_COUNTY_ROLES)
WORKER_KINDS = ("child_director", "rehab_coordinator", "elderly_visitor", "volunteer")
# The groups each kind of worker usually looks after (a volunteer helps with any).
WORKER_GROUPS = {
    "child_director": ("child",),
    "rehab_coordinator": ("disabled",),
    "elderly_visitor": ("elderly",),
    "volunteer": GROUPS,
}
AREA_LEVELS = ("province", "city", "county", "township", "village")
# A member's relation to the head of the household (与户主关系, as on the 户口簿).
HOUSEHOLD_RELATIONS = ("head", "spouse", "child", "grandchild", "parent", "grandparent", "other")
# Family rules: an adult household member of this age or older is no able guardian on their own.
FRAIL_GUARDIAN_AGE = 70
ADULT_AGE = 18
# Who delivers services (服务提供方): 部门, 社会组织, 志愿者, 村级互助组织, 结对干部.
PROVIDER_KINDS = ("department", "social_org", "volunteer", "mutual_aid", "cadre")
# Providers a person can be paired with (结对帮扶).
PAIRING_KINDS = ("volunteer", "cadre")
# A service's expected frequency: N times per week, month, quarter or year.
SERVICE_PERIODS = ("week", "month", "quarter", "year")
# A diary entry (民情日记): 走访见闻 (what was heard on the rounds), 办理事项 (what was done), 其他.
DIARY_KINDS = ("heard", "done", "other")
# A care plan (一人一案) from draft to approval; an approved plan is superseded by the next one approved.
PLAN_STATUSES = ("draft", "submitted", "returned", "approved", "superseded")
# Where a service order comes from: a visit, a need, the care plan, a request taken by phone (订单式),
# or a delivered service's record imported from a sheet (台账导入).
ORDER_SOURCES = ("visit", "need", "plan", "phone", "import")
ORDER_STATUSES = ("open", "assigned", "scheduled", "delivered", "declined", "cancelled")
# Orders still to be delivered (overdue once past their due date).
ORDER_OPEN = ("open", "assigned", "scheduled")
# The family's satisfaction with a delivered service.
SATISFACTION = ("satisfied", "fair", "unsatisfied")
AUDIT_OUTCOMES = ("success", "failure", "lockout", "locked", "denied")

# A child stays on the children's register until this age (未满 N 周岁), by sub-type: 农村留守儿童
# under 16 (国发〔2016〕13号); 困境儿童 are children, under 18 (国发〔2016〕36号); 事实无人抚养儿童
# under 18 (民发〔2019〕62号). A county whose province differs sets its own within the range below.
CHILD_AGE_LIMITS: dict[str, int] = {"left_behind": 16, "distressed": 18, "unsupported": 18}
CHILD_AGE_LIMIT_MIN = 14
CHILD_AGE_LIMIT_MAX = 18
ELDERLY_MIN_AGE = 60


def worker_groups(kind: str) -> tuple[str, ...]:
    """The care groups a worker of this kind usually looks after."""
    return WORKER_GROUPS.get(kind, GROUPS)


def group_fits_age(group: str, age: int) -> bool:
    """Children's register: under the highest limit any child sub-type may have (each sub-type's own
    limit is checked on enrolling); elderly: 60 and over; disabled: any age."""
    if group == "child":
        return age < CHILD_AGE_LIMIT_MAX
    if group == "elderly":
        return age >= ELDERLY_MIN_AGE
    return True


def check(name: str, value: object, allowed: tuple[object, ...]) -> None:
    """Raise a ValidationError when ``value`` is not one of ``allowed`` for field ``name``."""
    if value not in allowed:
        raise ValidationError("error.bad_choice", field=name, value=str(value))
