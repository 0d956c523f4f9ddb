"""Helpers for the dashboard tests: sign in, post forms, read figures out of the HTML."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx

from imagechat.auth.sso import make_token

_CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
_BAR_RE = re.compile(r'<g class="bar" data-value="(\d+)" data-start="([^"]+)">')
_CHART_RE = re.compile(r'<svg class="chart" id="chart-(\w+)".*?</svg>', re.S)
_TOTAL_RE = re.compile(r'data-metric="(\w+)" data-total="(\d+)"')


def csrf_of(page: str) -> str:
    found = _CSRF_RE.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def sign_in_page(client: httpx.AsyncClient) -> str:
    response = await client.get("/dashboard/sign-in")
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


async def sign_in(client: httpx.AsyncClient, tenant_id: str, secret: str) -> str:
    """Sign in with the API secret; returns the session's CSRF token."""
    csrf = await sign_in_page(client)
    response = await client.post("/dashboard/sign-in", data={
        "csrf": csrf, "method": "secret", "tenantId": tenant_id, "apiSecret": secret})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard/usage"
    return await session_csrf(client)


async def session_csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/dashboard/moderation")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def sso_token(secret: str, user: dict[str, Any], now_ms: int) -> str:
    return json.dumps(make_token(secret, user, now_ms - 1000))


def alert_of(page: str) -> str:
    found = re.search(r'role="alert"[^>]*>([^<]+)<', page)
    assert found, "no error message on the page"
    return html.unescape(found.group(1)).strip()


def totals_of(page: str) -> dict[str, int]:
    """The total shown next to each chart, by metric name (e.g. commentCreateCount)."""
    return {name: int(value) for name, value in _TOTAL_RE.findall(page)}


def bars_of(page: str) -> dict[str, list[tuple[str, int]]]:
    """Every chart's bars as (bucket start, value), by metric name."""
    return {m.group(1): [(start, int(v)) for v, start in _BAR_RE.findall(m.group(0))]
            for m in _CHART_RE.finditer(page)}


def widget_config(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="ic-config">(.*?)</script>', page,
                      re.S)
    assert found, "no widget on the page"
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def listed_images(page: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'<tr data-url-id="([^"]*)"', page)]
