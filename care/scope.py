"""Who may see what and do what: the acting user's scope and role permissions."""

from __future__ import annotations

from dataclasses import dataclass

from care.domain import areas

# Pages each role may open (the navigation shows these and each page checks again).
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "county": ("home", "map", "registers", "person", "needs", "services", "diary", "reports"),
    # A city's (市级) or a province's (省级) civil affairs: its counties' figures, maps and reports.
    "city": ("home", "map", "registers", "person", "needs", "services", "reports"),
    "province": ("home", "map", "registers", "person", "needs", "services", "reports"),
    "township": (
        "home",
        "map",
        "registers",
        "person",
        "person_new",
        "assignments",
        "schedule",
        "needs",
        "services",
        "diary",
        "imports",
        "reports",
    ),
    "coordinator": (
        "home",
        "my_visits",
        "schedule",
        "map",
        "registers",
        "person",
        "needs",
        "services",
        "diary",
        "imports",
    ),
    "admin": (
        "home",
        "map",
        "registers",
        "person",
        "person_new",
        "assignments",
        "schedule",
        "needs",
        "imports",
        "services",
        "diary",
        "reports",
        "policy",
        "admin",
        "audit",
    ),
}

# Actions each role may take, checked by services as well as pages.
REGISTER_WRITER_ACTIONS = frozenset(
    {
        "person.view",
        "person.view_full_id",
        "person.create",
        "person.edit",
        "person.delete",
        "person.restore",
        "enrollment.create",
        "enrollment.edit",
        "enrollment.exit",
        "risk.override",
    }
)
# Recording visits and raising or moving needs on the way.
VISIT_ACTIONS = frozenset({"visit.record", "visit.edit", "need.create", "need.update", "import.visits"})
# Care plans drafted and service orders raised and moved (一人一案, 订单式服务).
PLAN_ACTIONS = frozenset({"plan.draft", "order.create", "order.update", "import.services"})
SUPERVISOR_ACTIONS = frozenset(
    {
        "assignment.edit",
        "schedule.edit",
        "import.roster",
        "report.view",
        "export.masked",
        "provider.manage",
        "pairing.edit",
        "diary.write",
        "diary.view",
    }
)
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "county": frozenset({"person.view", "report.view", "export.masked", "export.unmasked", "diary.view"}),
    # Read, reports and masked exports only: whole ID numbers stay with each county.
    "city": frozenset({"person.view", "report.view", "export.masked"}),
    "province": frozenset({"person.view", "report.view", "export.masked"}),
    "township": REGISTER_WRITER_ACTIONS | VISIT_ACTIONS | SUPERVISOR_ACTIONS | PLAN_ACTIONS | {"plan.approve"},
    "coordinator": frozenset({"person.view", "person.edit", "enrollment.edit", "schedule.edit", "diary.write"})
    | VISIT_ACTIONS
    | PLAN_ACTIONS,
    "admin": REGISTER_WRITER_ACTIONS
    | VISIT_ACTIONS
    | SUPERVISOR_ACTIONS
    | PLAN_ACTIONS
    | {"plan.approve"}
    | frozenset({"policy.edit", "service.manage", "user.manage", "area.manage", "audit.view", "backup.create"}),
}


@dataclass(frozen=True)
class Scope:
    """The acting user: role, area and (for coordinators) the worker whose caseload they see."""

    user_id: int | None
    username: str
    role: str
    area_code: str | None
    worker_id: int | None = None
    # Set after an admin reset or for a new account: only the change-password page opens.
    must_change_password: bool = False

    @property
    def prefix(self) -> str | None:
        """The code prefix of the user's area, or None when the user has no usable area."""
        if self.area_code is None or not areas.is_code(self.area_code):
            return None
        return areas.prefix_of(self.area_code)

    @property
    def sees_nothing(self) -> bool:
        """Deny by default: no area, an unknown role, or a coordinator not linked to a worker."""
        if self.prefix is None or self.role not in ROLE_ACTIONS or self.must_change_password:
            return True
        return self.role == "coordinator" and self.worker_id is None

    @property
    def assigned_only(self) -> bool:
        """Coordinators see only persons with an enrollment assigned to their worker."""
        return self.role == "coordinator"

    def can(self, action: str) -> bool:
        """Whether this user's role allows ``action`` (nothing until a forced password change is done)."""
        return not self.must_change_password and action in ROLE_ACTIONS.get(self.role, frozenset())

    def may_open(self, page: str) -> bool:
        """Whether this user's role may open ``page`` (none until a forced password change is done)."""
        return not self.must_change_password and page in ROLE_PAGES.get(self.role, ())

    def covers(self, area_code: str) -> bool:
        """Whether ``area_code`` lies in this user's area (assignment rules come on top)."""
        return not self.sees_nothing and areas.contains(self.area_code or "", area_code)
