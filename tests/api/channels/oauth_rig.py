"""Playing the shop owner's browser through a platform's authorisation, over real HTTP."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.api.channels.conftest import API

HIDDEN = re.compile(r"<input type=['\"]hidden['\"] name=['\"](\w+)['\"] value=['\"]([^'\"]*)['\"]")
ACTION = re.compile(r"<form method=['\"]post['\"] action=['\"]([^'\"]+)['\"]")


@dataclass
class Link:
    """An authorisation link as the API gave it."""

    url: str
    state: str
    body: dict[str, object]


def state_of(url: str) -> str:
    """The `state` inside a link (TikTok: a query parameter; Shopee: inside `redirect`)."""
    query = parse_qs(urlsplit(url).query)
    if "state" in query:
        return query["state"][0]
    return parse_qs(urlsplit(query["redirect"][0]).query)["state"][0]


async def ask_link(
    client: httpx.AsyncClient, platform: str, cooperative_id: int, headers: dict[str, str]
) -> Link:
    """Ask the API for an authorisation link (as a coop admin or admin)."""
    response = await client.post(
        f"{API}/oauth/{platform}/authorization-links",
        json={"cooperative_id": cooperative_id},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Link(body["authorization_url"], state_of(body["authorization_url"]), body)


async def consent(url: str, shop_id: str) -> str:
    """Open the platform's consent page, choose the shop, consent; the redirect it answers."""
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(url)
        assert page.status_code == 200, page.text
        action = ACTION.search(page.text)
        assert action is not None, page.text
        form = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
        parts = urlsplit(url)
        answer = await browser.post(
            f"{parts.scheme}://{parts.netloc}{action.group(1)}", data={**form, "shop_id": shop_id}
        )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


async def come_back(location: str) -> httpx.Response:
    """Follow the platform's redirect to our callback, as the browser would (no bearer token)."""
    async with httpx.AsyncClient(timeout=10) as browser:
        return await browser.get(location)


async def authorise(
    client: httpx.AsyncClient,
    platform: str,
    cooperative_id: int,
    headers: dict[str, str],
    shop_id: str,
) -> httpx.Response:
    """The whole round trip: link, consent, callback; the callback's response."""
    link = await ask_link(client, platform, cooperative_id, headers)
    return await come_back(await consent(link.url, shop_id))
