"""The backup tab of 系统管理: take a consistent backup now and download it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

import ui
from care.domain.errors import CareError
from care.scope import Scope
from care.services import backup

SUMMARY_KEY = "backup_summary"
MAX_DOWNLOAD_BYTES = 300 * 1024 * 1024


def render(scope: Scope) -> None:
    """A button that writes a backup (audited backup.create), its summary and the download."""
    st.caption(ui.t("admin.backup.intro"))
    if st.button(ui.t("admin.backup.create"), type="primary", icon=":material/backup:", key="backup_go"):
        try:
            with st.spinner(ui.t("admin.backup.create")):
                url = ui.engine().url.render_as_string(hide_password=False)
                st.session_state[SUMMARY_KEY] = backup.create_backup(url, scope)
        except CareError as error:
            ui.show_error(error)
    summary: backup.BackupSummary | None = st.session_state.get(SUMMARY_KEY)
    if summary is None:
        return
    path = Path(summary.path)
    size = round(summary.bytes / (1024 * 1024), 1)
    st.success(ui.t("admin.backup.done", file=ui.md(path.name), size=size, integrity=ui.md(summary.integrity)))
    st.caption(ui.t("admin.backup.sha256", digest=summary.sha256))
    counts = pd.DataFrame(
        {ui.t("admin.col.table"): list(summary.counts), ui.t("admin.col.rows"): list(summary.counts.values())}
    )
    st.dataframe(counts, hide_index=True, height=240)
    if summary.bytes > MAX_DOWNLOAD_BYTES or not path.is_file():
        st.info(ui.t("admin.backup.too_big", path=ui.md(str(path))))
        return
    st.download_button(
        ui.t("admin.backup.download"),
        data=path.read_bytes,
        file_name=path.name,
        mime="application/octet-stream",
        on_click="ignore",
        icon=":material/download:",
    )
