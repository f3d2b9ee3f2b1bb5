"""Every message a page shows has a Vietnamese and an English entry in the catalogs."""

from __future__ import annotations

import io
from importlib.resources import files
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "api" / "web"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]


def _extracted() -> set[str]:
    found = extract_from_dir(
        str(WEB), METHODS, {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    )
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


@pytest.mark.pure
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_catalog_translates_every_message(lang: str) -> None:
    po = files("api.web").joinpath("locale", lang, "LC_MESSAGES", "messages.po").read_bytes()
    catalog = read_po(io.BytesIO(po))
    translated = {m.id for m in catalog if m.id and m.string}
    messages = _extracted()
    assert len(messages) > 20
    assert messages - translated == set()
