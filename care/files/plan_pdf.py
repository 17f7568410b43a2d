"""The printable care plan (一人一案): who it is for, the goals, the planned services with their
frequency, provider and progress, the review date and the signatures, as a PDF (every text drawn
as the text it is: fpdf2 reads no markup)."""

from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF

from care import i18n
from care.files.pdf import INK, cjk_document, print_table
from care.queries.plans import PlanView


@dataclass(frozen=True)
class PlanHeader:
    """Who the plan is for, as printed (the ID number already masked)."""

    name: str
    id_masked: str
    village: str
    group: str
    risk: str
    printed_by: str
    printed_at: str


def _plan_facts(plan: PlanView, header: PlanHeader, lang: str) -> list[tuple[str, str]]:
    """The labelled facts at the top of the plan: person, village, group and risk, revision, review date."""
    t = i18n.t
    return [
        (t("plan.print.person", lang), f"{header.name}（{header.id_masked}）"),
        (t("plan.print.village", lang), header.village),
        (t("plan.print.group", lang), f"{header.group} · {t('person_file.risk', lang)}：{header.risk}"),
        (
            t("plan.print.revision", lang),
            t(
                "plan.print.revision_value",
                lang,
                revision=plan.revision,
                status=t(f"enum.plan_status.{plan.status}", lang),
                by=plan.decided_by or "—",
                day=plan.decided_at.date().isoformat() if plan.decided_at else "—",
            ),
        ),
        (t("plan.review_on", lang), plan.review_on.isoformat()),
    ]


def _draw_services(pdf: FPDF, plan: PlanView, lang: str) -> None:
    """The planned services as a table: service, frequency, provider, progress, note."""
    t = i18n.t
    columns = ("plan.col.service", "plan.col.frequency", "plan.col.provider", "plan.col.progress", "plan.col.note")
    with print_table(pdf, col_widths=(2, 2, 3, 2, 3), line_height=6) as table:
        head = table.row()
        for key in columns:
            head.cell(t(key, lang))
        for item in plan.items:
            row = table.row()
            row.cell(item.service_name)
            row.cell(t("service.frequency", lang, times=item.times, period=t(f"enum.period.{item.period}", lang)))
            row.cell(item.provider or "—")
            row.cell(f"{item.delivered} / {item.times}")
            row.cell(item.note)


def _draw_signatures(pdf: FPDF, header: PlanHeader, lang: str) -> None:
    """The drafter's, approver's and family's signature lines, then the printed-by footer."""
    t = i18n.t
    pdf.set_font(size=10, style="")
    for key in ("plan.print.sign_drafter", "plan.print.sign_approver", "plan.print.sign_family"):
        pdf.cell(
            0,
            9,
            f"{t(key, lang)}：________________　{t('plan.print.date', lang)}：__________",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(4)
    pdf.set_font(size=8, style="")
    pdf.multi_cell(
        0, 5, t("plan.print.footer", lang, by=header.printed_by, at=header.printed_at), new_x="LMARGIN", new_y="NEXT"
    )


def plan_pdf(plan: PlanView, header: PlanHeader, lang: str = "zh") -> bytes:
    """One plan on A4 paper."""
    t = i18n.t
    pdf = cjk_document()
    pdf.add_page()
    pdf.set_text_color(*INK)
    pdf.set_font(size=15, style="B")
    pdf.cell(0, 10, t("plan.print.title", lang), new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font(size=10, style="")
    facts = _plan_facts(plan, header, lang)
    with print_table(pdf, col_widths=(1, 3), line_height=7) as table:
        for label, value in facts:
            row = table.row()
            row.cell(label)
            row.cell(value)
    pdf.ln(4)
    pdf.set_font(size=12, style="B")
    pdf.cell(0, 8, t("plan.goals", lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=10, style="")
    pdf.multi_cell(0, 6, plan.goals, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(size=12, style="B")
    pdf.cell(0, 8, t("plan.services", lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=9, style="")
    _draw_services(pdf, plan, lang)
    pdf.ln(10)
    _draw_signatures(pdf, header, lang)
    return bytes(pdf.output())
