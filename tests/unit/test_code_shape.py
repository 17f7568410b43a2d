"""The code keeps its shape: ruff clean and formatted, mypy strict clean on care/, db/, ui/ and pages/."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_ruff_finds_nothing():
    done = _run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_would_change_nothing():
    done = _run("ruff", "format", "--check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_finds_nothing_in_care_db_ui_and_pages():
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr


def test_care_and_db_never_import_streamlit():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("care", "db")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"^\s*(import streamlit|from streamlit)", path.read_text(encoding="utf-8"), re.M)
    ]
    assert offenders == []


def test_pages_hold_no_sql():
    pattern = re.compile(r"\b(select\(|session\.(execute|query|scalars|add|get)\b|text\()")
    offenders = [p.name for p in (ROOT / "pages").glob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_no_page_renders_raw_html():
    pattern = re.compile(r"unsafe_allow_html\s*=\s*True|components\.html\(")
    files = [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), ROOT / "app.py"]
    assert [p.name for p in files if pattern.search(p.read_text(encoding="utf-8"))] == []


def test_every_empty_choice_box_shows_the_catalogs_placeholder():
    # Streamlit's own placeholder ("Choose options") is English whatever the user's language.
    missing = []
    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            starts_empty = node.func.attr == "multiselect" or (
                node.func.attr == "selectbox"
                and isinstance(keywords.get("index"), ast.Constant)
                and keywords["index"].value is None
            )
            if starts_empty and "placeholder" not in keywords:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert missing == []
