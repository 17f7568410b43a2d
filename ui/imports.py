"""Widgets of the 数据导入 page: the template download, the progress bar and the report."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from care.imports import FILE_ROW, ImportReport, Progress, build_template, errors_csv
from care.scope import Scope

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_KEY = "import_report"


def template_button(scope: Scope, kind: str) -> None:
    """The template of ``kind`` for the user's villages, built only when clicked."""

    def build() -> bytes:
        with ui.read() as session:
            return build_template(session, scope, kind=kind)

    st.download_button(
        ui.t("import.template_button"),
        data=build,
        file_name=f"{ui.t('import.sheet_' + kind)}_{ui.today():%Y%m%d}.xlsx",
        mime=XLSX_MIME,
        on_click="ignore",
        help=ui.t("import.template_help"),
        icon=":material/download:",
    )


def progress_bar() -> Progress:
    """A progress bar and the callback that moves it: rows checked, then rows written."""
    bar = st.progress(0.0, text=ui.t("import.progress", checked=0, total="…", written=0))

    def update(checked: int, written: int, total: int) -> None:
        share = (checked + written) / (2 * total) if total else 1.0
        bar.progress(min(share, 1.0), text=ui.t("import.progress", checked=checked, total=total, written=written))

    return update


def _problems(report: ImportReport) -> pd.DataFrame:
    rows = [(e, "import.kind_error") for e in report.errors] + [(w, "import.kind_warning") for w in report.warnings]
    return pd.DataFrame(
        {
            ui.t("import.col_row"): [ui.t("import.whole_file") if e.row == FILE_ROW else str(e.row) for e, _ in rows],
            ui.t("import.col_column"): [e.column for e, _ in rows],
            ui.t("import.col_reason"): [e.reason(ui.lang()) for e, _ in rows],
            ui.t("import.col_kind"): [ui.t(kind) for _, kind in rows],
        }
    )


def show_report(report: ImportReport) -> None:
    """The summary line, the problems table and the problems as a CSV download."""
    params = {
        "rows": report.rows,
        "committed": report.committed,
        "unchanged": report.unchanged,
        "new": report.new,
        "errors": len(report.errors),
    }
    text = ui.t(report.summary_key(), **params)
    if report.ok:
        (st.info if report.dry_run or not report.committed else st.success)(text)
    else:
        st.error(text)
    if not report.errors and not report.warnings:
        return
    st.dataframe(_problems(report), hide_index=True, width="stretch")
    st.download_button(
        ui.t("import.download_errors"),
        data=errors_csv(report, ui.lang()),
        file_name=f"import_problems_{report.file_sha256[:8]}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )
