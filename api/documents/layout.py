"""Drawing a long A4 document page by page: a heading on each page, table rows that flow on.

Rows are drawn as they come from an iterator, so a 500-parcel manifest never exists as a list
of flowables (platypus tables would hold them all); reportlab keeps only each finished page's
compressed content stream until `save()` writes the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Literal, TypeVar

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from api.documents import fonts
from api.documents.text import fit, nfc

Align = Literal["left", "right", "center"]
Item = TypeVar("Item")
MARGIN = 14 * mm
ROW_SIZE = 9.0
ROW_HEIGHT = 5.2 * mm


@dataclass(frozen=True)
class Column:
    """One table column: its heading, share of the line's width and alignment."""

    heading: str
    share: float
    align: Align = "left"


def open_canvas(out: BinaryIO, title: str, pagesize: tuple[float, float] = A4) -> Canvas:
    """A canvas writing to `out` with the Vietnamese faces registered."""
    fonts.register()
    canvas = Canvas(out, pagesize=pagesize, pageCompression=1)
    canvas.setTitle(nfc(title))
    canvas.setAuthor("Phiên")
    canvas.setCreator("Phiên")
    return canvas


def draw_per_page(
    canvas: Canvas, items: Iterable[Item], per_page: int, draw: Callable[[Item, int], None]
) -> int:
    """Draw `per_page` items to a page: `draw(item, slot)` with slot 0, 1... on each page. A page
    ends when full or after the last item; no items still make one (blank) page. The number of
    pages written."""
    pages = slot = 0
    for item in items:
        if slot == 0:
            pages += 1
        draw(item, slot)
        slot = (slot + 1) % per_page
        if slot == 0:
            canvas.showPage()
    if slot or not pages:
        canvas.showPage()
    return max(pages, 1)


def draw_text(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    width: float,
    *,
    bold: bool = False,
    align: Align = "left",
) -> None:
    """One line of text fitted to `width` points, aligned inside [x, x + width]."""
    font = fonts.BOLD if bold else fonts.REGULAR
    line = fit(text, font, size, width)
    canvas.setFont(font, size)
    if align == "right":
        canvas.drawRightString(x + width, y, line)
    elif align == "center":
        canvas.drawCentredString(x + width / 2, y, line)
    else:
        canvas.drawString(x, y, line)


@dataclass
class Flow:
    """A top-to-bottom cursor over A4 pages that starts a fresh page when one is full."""

    canvas: Canvas
    title: str
    subtitle: str
    columns: Sequence[Column] = ()
    pages: int = 0
    y: float = 0.0
    _open: bool = field(default=False, repr=False)

    @property
    def width(self) -> float:
        return float(A4[0]) - 2 * MARGIN

    def start_page(self) -> None:
        """Close the page in progress (if any) and draw the next one's heading."""
        if self._open:
            self._footer()
            self.canvas.showPage()
        self.pages += 1
        self._open = True
        top = float(A4[1]) - MARGIN
        draw_text(self.canvas, MARGIN, top - 12, self.title, 15, self.width, bold=True)
        self.y = top - 27
        for line in self.subtitle.splitlines():
            draw_text(self.canvas, MARGIN, self.y, line, 9.5, self.width)
            self.y -= 12
        self.y += 3
        self.canvas.setLineWidth(0.8)
        self.canvas.line(MARGIN, self.y, MARGIN + self.width, self.y)
        self.y -= 4 * mm
        if self.columns:
            self._draw_row([c.heading for c in self.columns], bold=True, ruled=True)

    def room(self, height: float) -> None:
        """Make sure `height` points fit above the footer; start a new page if not."""
        if not self._open or self.y - height < MARGIN + 10 * mm:
            self.start_page()

    def row(self, values: Sequence[str], *, bold: bool = False, ruled: bool = False) -> None:
        """One table row across the columns (heading repeated on each new page)."""
        self.room(ROW_HEIGHT)
        self._draw_row(values, bold=bold, ruled=ruled)

    def _draw_row(self, values: Sequence[str], *, bold: bool, ruled: bool) -> None:
        x = MARGIN
        for column, value in zip(self.columns, values, strict=True):
            w = column.share * self.width
            draw_text(self.canvas, x + 1.5, self.y, value, ROW_SIZE, w - 3, bold=bold,
                      align=column.align)  # fmt: skip
            x += w
        if ruled:
            self.canvas.setLineWidth(0.5)
            self.canvas.line(MARGIN, self.y - 1.8 * mm, MARGIN + self.width, self.y - 1.8 * mm)
        else:
            self.canvas.setLineWidth(0.2)
            self.canvas.setStrokeGray(0.75)
            self.canvas.line(MARGIN, self.y - 1.6 * mm, MARGIN + self.width, self.y - 1.6 * mm)
            self.canvas.setStrokeGray(0)
        self.y -= ROW_HEIGHT

    def line(self, text: str, size: float = 10, *, bold: bool = False, gap: float = 1.5) -> None:
        """A free line of text across the page."""
        self.room(size + gap * mm)
        draw_text(self.canvas, MARGIN, self.y, text, size, self.width, bold=bold)
        self.y -= size + gap * mm

    def finish(self) -> int:
        """Write the last page and the file; the number of pages."""
        if not self._open:
            self.start_page()
        self._footer()
        self.canvas.showPage()
        self.canvas.save()
        return self.pages

    def _footer(self) -> None:
        draw_text(self.canvas, MARGIN, MARGIN - 2, f"Trang {self.pages}", 8, self.width,
                  align="right")  # fmt: skip
