"""PDF documents with Chinese text: fpdf2 with Debian's Noto Sans CJK (package fonts-noto-cjk)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.table import Table

from care.domain.errors import CareError

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/opentype/noto-cjk"))
REGULAR = "NotoSansCJK-Regular.ttc"
BOLD = "NotoSansCJK-Bold.ttc"
SC_FACE = 2  # index of the Simplified Chinese face in the Noto CJK collections
FAMILY = "cjk"
# Printed tables go to black-and-white office printers: white cells, near-black text, thin grey
# rules; the header row is told apart by bold text and a very light tint, never by a dark fill.
INK = (34, 34, 34)
RULE = (160, 160, 160)
HEAD_TINT = (243, 243, 243)
RULE_MM = 0.2


def font_path(name: str) -> Path:
    """The path of a Noto CJK font file; a clear error when the font package is missing."""
    for folder in FONT_DIRS:
        path = folder / name
        if path.is_file():
            return path
    raise CareError("pdf.font_missing", font=name)


def cjk_document(*, landscape: bool = False) -> FPDF:
    """An A4 document with the CJK family (regular and bold) registered and selected."""
    pdf = FPDF(orientation="L" if landscape else "P", unit="mm", format="A4")
    pdf.add_font(FAMILY, "", str(font_path(REGULAR)), collection_font_number=SC_FACE)
    bold = font_path(BOLD) if any((d / BOLD).is_file() for d in FONT_DIRS) else font_path(REGULAR)
    pdf.add_font(FAMILY, "B", str(bold), collection_font_number=SC_FACE)
    pdf.set_font(FAMILY, size=10)
    pdf.set_auto_page_break(auto=True, margin=12)
    return pdf


@contextmanager
def print_table(pdf: FPDF, *, col_widths: Sequence[float] | None, line_height: float) -> Iterator[Table]:
    """A table fit for black-and-white print; the first row is the bold header.

    The colours are set here because fpdf2 tables inherit the document's current fill colour,
    which a chart or map drawn just before would otherwise flood every cell with.
    """
    pdf.set_fill_color(255, 255, 255)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(RULE_MM)
    heading = FontFace(emphasis="BOLD", color=INK, fill_color=HEAD_TINT)
    with pdf.table(
        col_widths=col_widths,
        line_height=line_height,
        text_align="LEFT",
        first_row_as_headings=True,
        headings_style=heading,
    ) as table:
        yield table
    pdf.set_text_color(0, 0, 0)
