"""Printed tables survive a black-and-white office printer: the rendered page, not just its text.

Page 1 of each PDF is rendered with poppler's pdftoppm; the band of the page holding the table
(found from where its own texts sit) must be nearly all white: a few dark pixels of text and
rules, no dark or strongly coloured cell fills.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from care.domain.reports import compute
from care.files import report_pdf
from care.files.schedule_sheet import sheet_pdf
from care.i18n import t
from tests.unit.test_exports import META
from tests.unit.test_report_kpis import inputs
from tests.unit.test_schedule_sheet import plan  # noqa: F401 (fixture)

DPI = 40

if shutil.which("pdftoppm") is None:
    if os.environ.get("CARE_E2E_REQUIRED"):
        raise RuntimeError("poppler-utils (pdftoppm) is required here and is not installed")
    pytestmark = pytest.mark.skip(reason="poppler-utils (pdftoppm) is not installed")


def _render(data: bytes, tmp_path: Path) -> Image.Image:
    source = tmp_path / "page.pdf"
    source.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-f", "1", "-l", "1", "-singlefile", "-png", str(source), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    return Image.open(tmp_path / "page.png").convert("RGB")


def _baselines(data: bytes, texts: Iterable[str]) -> list[float]:
    """The baselines (points from the page bottom) of the page-1 text runs that are one of ``texts``."""
    wanted = set(texts)
    found: list[float] = []

    def visit(text: str, _cm: object, tm: list[float], _font: object, _size: object) -> None:
        if text.replace("\x00", "").strip() in wanted:
            found.append(float(tm[5]))

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return found


def _band(image: Image.Image, data: bytes, texts: Iterable[str], row_pt: float) -> Image.Image:
    """The table's band of the page: from a row above its first text to a row below its last."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    height_pt = float(page.mediabox.height)
    ys = _baselines(data, texts)
    assert ys, "the table's texts were not found on page 1"
    scale = DPI / 72
    top = int((height_pt - max(ys) - row_pt) * scale)
    bottom = int((height_pt - min(ys) + row_pt / 2) * scale)
    margin = int(10 / 25.4 * DPI)
    return image.crop((margin, max(0, top), image.width - margin, min(image.height, bottom)))


def _shares(band: Image.Image) -> tuple[float, float, float]:
    """Shares of the band's pixels that are dark (luma < 100), strongly saturated, and not white."""
    rgb = np.asarray(band, dtype=float)
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    return float((luma < 100).mean()), float((spread > 100).mean()), float((luma < 235).mean())


def test_the_weekly_sheets_stops_table_prints_white_with_dark_text(plan, tmp_path):  # noqa: F811
    data = sheet_pdf(plan, "zh", dt.date(2026, 6, 10))
    texts = [t("schedule.col_seq", "zh"), *(s.name for s in plan.days[0].stops)]
    dark, vivid, ink = _shares(_band(_render(data, tmp_path), data, texts, row_pt=14))
    assert vivid < 0.01, f"{vivid:.1%} of the stops table is strongly coloured"
    assert dark < 0.12, f"{dark:.1%} of the stops table is dark"
    assert ink > 0.02  # the band holds the table's text and rules: the check looks where the table is


def test_the_reports_area_table_prints_white_with_dark_text(tmp_path):
    report = compute(inputs())
    data = report_pdf.report_pdf(report, None, META)
    texts = [t("report.col.area", "zh"), *(str(a) for a in report.by_area["area"])]
    band = _band(_render(data, tmp_path), data, texts, row_pt=17)
    dark, vivid, ink = _shares(band)
    assert vivid < 0.01, f"{vivid:.1%} of the area table is strongly coloured"
    assert dark < 0.12, f"{dark:.1%} of the area table is dark"
    assert ink > 0.02  # the band holds the table itself
