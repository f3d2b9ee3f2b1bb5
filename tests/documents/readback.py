"""Reading documents back as a person's tools would: text from PDF, pixels, barcodes, tables."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]  # ships no type information
import zxingcpp
from PIL.Image import Image
from pypdf import PdfReader


def pdf_text(data: bytes) -> list[str]:
    """Each page's text, NFC-normalised."""
    reader = PdfReader(io.BytesIO(data))
    return [unicodedata.normalize("NFC", page.extract_text()) for page in reader.pages]


def page_image(data: bytes, page: int = 0, dpi: int = 300) -> Image:
    """One page rendered to a picture by PDFium."""
    document = pypdfium2.PdfDocument(data)
    try:
        bitmap = document[page].render(scale=dpi / 72)
        image: Image = bitmap.to_pil()
        return image.convert("L")
    finally:
        document.close()


def barcodes(image: Image) -> list[tuple[str, str]]:
    """(format, text) of every barcode zxing-cpp finds in the picture."""
    return [(str(found.format), found.text) for found in zxingcpp.read_barcodes(image)]


def save_png(data: bytes, path: Path, dpi: int = 150) -> Path:
    """The first page as a PNG a person can look at."""
    page_image(data, dpi=dpi).save(path)
    return path
