"""/docs and /redoc load everything from this server, so they work without internet."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

URL_ATTRIBUTES = {"src", "href", "spec-url"}
# Swagger UI gets its document from a JavaScript option, not an attribute.
SCRIPT_URL = re.compile(r"""\burl:\s*['"]([^'"]+)['"]""")
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in URL_ATTRIBUTES and value]

    def handle_data(self, data: str) -> None:
        self.urls += SCRIPT_URL.findall(data)


def references(html: str) -> list[str]:
    """Every URL the page makes the browser load."""
    parser = _References()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("/docs", {"/static/docs/swagger-ui-bundle.js", "/static/docs/swagger-ui.css"}),
        ("/redoc", {"/static/docs/redoc.standalone.js"}),
    ],
)
async def test_docs_pages_load_only_from_this_server(
    client: httpx.AsyncClient, page: str, expected: set[str]
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert "://" not in response.text
    # What the bundles fetch on their own (ReDoc's logo) the browser must not ask another host for.
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "img-src 'self' data:" in response.headers["content-security-policy"]
    urls = references(response.text)
    assert expected | {"/openapi.json", "/static/docs/favicon.png"} == set(urls)
    for url in urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert asset.headers["content-type"].startswith(CONTENT_TYPES[suffix]), url
        assert asset.content, url


async def test_docs_assets_are_counted_under_one_route(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/docs/missing-7f3a.js")).status_code == 404
    body = (await client.get("/metrics")).text
    assert 'route="/static/docs/{path}",status="404"' in body
    assert "missing-7f3a" not in body
