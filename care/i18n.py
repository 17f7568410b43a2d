"""The one catalog of every label, enum value and message, in Chinese (default) and English.

Each entry is ``key: (zh, en)``. Messages take ``str.format`` parameters by name.
Sections keep related keys together; add new keys to the section they belong to.
"""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

CATALOG: dict[str, tuple[str, str]] = {
    # --- app -----------------------------------------------------------------
    "app.title": ("乡村关爱地图", "CareMap"),
    "app.language": ("语言 / Language", "Language / 语言"),
    # --- errors --------------------------------------------------------------
    "error.not_found": ("记录不存在或无权查看。", "The record does not exist or you may not see it."),
    "error.permission_denied": ("您的角色无权执行此操作。", "Your role may not do this."),
    "error.stale_record": (
        "保存失败：该记录已被他人修改（您看到的是第 {seen} 版，当前为第 {current} 版）。下面显示的是最新内容，请核对后重新保存。",
        "Not saved: someone else changed this record (you saw version {seen}, it is now version {current}). "
        "The newer values are shown below; check them and save again.",
    ),
    "error.login_failed": ("用户名或密码错误，或账号已停用/锁定。", "Wrong username or password, or the account is inactive or locked."),
    "error.no_scope": ("您的账号没有分配辖区，无法查看任何记录。请联系系统管理员。", "Your account has no area assigned, so it sees no records. Ask the administrator."),
}


def t(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """The text for ``key`` in ``lang`` with ``params`` filled in; an unknown key shows as itself."""
    entry = CATALOG.get(key)
    if entry is None:
        return key
    text = entry[1] if lang == "en" else entry[0]
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def has(key: str) -> bool:
    """Whether the catalog holds ``key``."""
    return key in CATALOG
