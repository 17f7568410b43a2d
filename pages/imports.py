"""数据导入: template download, upload, progress, and a summary with the list of problems."""

from __future__ import annotations

import streamlit as st

import ui
from care.imports import KINDS, run_import
from care.imports.files import MAX_FILE_BYTES
from ui import imports as widgets

scope = ui.require_page("imports")
st.title(ui.t("import.title"))
st.caption(ui.t("import.intro"))

kinds = [k for k in KINDS if scope.can(f"import.{k}")]
kind = st.radio(
    ui.t("import.kind"),
    kinds,
    format_func=lambda k: ui.t(f"import.kind_{k}"),
    horizontal=True,
    key="import_kind",
    on_change=lambda: st.session_state.pop(widgets.REPORT_KEY, None),
)
widgets.template_button(scope, kind)

upload = st.file_uploader(
    ui.t("import.upload"),
    type=["xlsx", "csv"],
    help=ui.t("import.upload_help", limit_mb=MAX_FILE_BYTES // (1024 * 1024)),
    key=f"import_file_{kind}",
)
dry_run = st.toggle(ui.t("import.dry_run"), key="import_dry_run")
start = st.button(
    ui.t("import.start_check" if dry_run else "import.start"),
    type="primary",
    disabled=upload is None,
    icon=":material/upload_file:",
)

if start and upload is not None:
    progress = widgets.progress_bar()
    report = run_import(
        ui.engine(),
        scope,
        kind=kind,
        data=upload.getvalue(),
        filename=upload.name,
        dry_run=dry_run,
        progress=progress,
    )
    if report.committed:
        st.cache_data.clear()
    st.session_state[widgets.REPORT_KEY] = report

kept = st.session_state.get(widgets.REPORT_KEY)
if kept is not None and kept.kind == kind:
    widgets.show_report(kept)
