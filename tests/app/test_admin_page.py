"""系统管理 for the admin: every tab draws; a backup is written, audited and offered; merges preview first."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import AuditEvent
from db.session import get_engine, reading

ROOT = Path(__file__).resolve().parents[2]


def _admin_page(app_as) -> AppTest:
    at = app_as("admin")
    at.run()
    at.switch_page("pages/admin.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def test_the_admin_page_shows_its_five_tabs_and_the_county_areas(app_as):
    at = _admin_page(app_as)
    assert [t.label for t in at.tabs] == ["用户", "区划", "区划调整", "巡访规则", "备份"]
    assert [t.value for t in at.title] == ["系统管理"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["乡镇（街道）"] == "12" and int(metrics["村（社区）"]) > 100
    assert "撤并" in _texts(at)


@pytest.mark.parametrize("role", ["county", "township", "coordinator"])
def test_other_roles_are_refused_the_admin_page(app_as, role):
    at = app_as(role)
    direct = AppTest.from_file(str(ROOT / "pages/admin.py"), default_timeout=60)
    direct.session_state["login_token"] = at.session_state["login_token"]
    direct.run()
    assert "您的角色无权打开此页面" in _texts(direct)
    assert not direct.tabs and not direct.button


def test_a_backup_from_the_page_is_checked_audited_and_offered_for_download(app_as, demo_db, tmp_path, monkeypatch):
    monkeypatch.setenv("CARE_BACKUP_DIR", str(tmp_path))
    at = _admin_page(app_as)
    at.button(key="backup_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "完整性检查：ok" in _texts(at)
    files = list(tmp_path.glob("caremap-*.db"))
    assert len(files) == 1
    assert any(e.label == "下载备份文件" for e in at.get("download_button"))
    with reading(get_engine(str(demo_db["path"]))) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "backup.create")).all()
    assert [e.entity_id for e in events][-1] == files[0].name
    assert events[-1].username == demo_db["accounts"]["admin"]["username"]


def test_a_merge_is_previewed_with_its_code_mapping_before_it_can_be_applied(app_as):
    at = _admin_page(app_as)
    codes = at.multiselect(key="merge_sources").options
    assert len(codes) > 100
    first, second = codes[:2]
    assert not any(b.key == "merge_apply" for b in at.button)
    at.button(key="merge_preview").click().run()
    assert "请至少选择一个被撤并的区划" in _texts(at)
    source_code = first.rsplit("（", 1)[1].rstrip("）")
    target_code = second.rsplit("（", 1)[1].rstrip("）")
    at.multiselect(key="merge_sources").select(source_code).run()
    at.selectbox(key="merge_target").select(target_code).run()
    at.button(key="merge_preview").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"并入 {target_code}" in _texts(at)
    assert at.button(key="merge_apply").disabled
