"""PDF documents with Chinese text: fpdf2 with Debian's Noto Sans CJK (package fonts-noto-cjk)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from care.errors import CareError

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/opentype/noto-cjk"))
REGULAR = "NotoSansCJK-Regular.ttc"
BOLD = "NotoSansCJK-Bold.ttc"
SC_FACE = 2  # index of the Simplified Chinese face in the Noto CJK collections
FAMILY = "cjk"


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
