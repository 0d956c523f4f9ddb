"""Usage over time: charts of the tenant's counters, and the same figures as CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from imagechat.domain.models import Tenant
from imagechat.http.dashboard.common import (
    PREFIX,
    DashboardRoute,
    admin_of,
    render,
    services,
)
from imagechat.http.responses import download_headers
from imagechat.services.dashboard import (
    METRICS,
    Metric,
    UsagePoint,
    UsageRange,
    parse_range,
    usage_csv,
    usage_totals,
)
from imagechat.web.charts import Point, Unit, bar_chart

if TYPE_CHECKING:
    from imagechat.live.hub import Hub

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute)

UNITS = {
    "pubsub_message_count": Unit("message", "messages"),
    "pubsub_bandwidth": Unit("byte", "bytes", is_bytes=True),
    "conversation_create_count": Unit("conversation", "conversations"),
    "comment_create_count": Unit("comment", "comments"),
    "peak_viewers": Unit("viewer", "viewers"),
}


async def _points(request: Request, tenant: Tenant, span: UsageRange) -> list[UsagePoint]:
    # This node's live counters are written every few seconds; write them now so that
    # the page is current (other nodes' counts arrive within their flush interval).
    hub: Hub | None = getattr(request.app.state, "hub", None)
    if hub is not None:
        await hub.meter.flush()
    return await services(request).dashboard.usage(tenant, span)


def _span(request: Request) -> UsageRange:
    query = request.query_params
    return parse_range(query.get("from"), query.get("to"), query.get("bucket"),
                       services(request).clock.now_ms())


@router.get("/usage")
async def usage_page(request: Request) -> Response:
    admin = await admin_of(request)
    span = _span(request)
    points = await _points(request, admin.tenant, span)
    totals = usage_totals(points)
    charts = [
        {"metric": metric, "svg": _chart(metric, points, span), "total": totals[metric.field],
         "unit": UNITS[metric.field]}
        for metric in METRICS
    ]
    return render(request, "usage.html", admin=admin, span=span, charts=charts,
                  csv_query=_query(span))


@router.get("/usage.csv")
async def usage_csv_download(request: Request) -> Response:
    admin = await admin_of(request)
    span = _span(request)
    points = await _points(request, admin.tenant, span)
    name = (f"imagechat-usage-{admin.tenant.id}-{span.first_day.isoformat()}-"
            f"{span.last_day.isoformat()}-{span.bucket}.csv")
    return Response(usage_csv(points, span.bucket), media_type="text/csv; charset=utf-8",
                    headers=download_headers(name))


def _query(span: UsageRange) -> str:
    return (f"from={span.first_day.isoformat()}&to={span.last_day.isoformat()}"
            f"&bucket={span.bucket}")


def _chart(metric: Metric, points: list[UsagePoint], span: UsageRange) -> str:
    per = "hour" if span.bucket == "hour" else "day"
    return bar_chart([_point(p, span, p.value(metric)) for p in points],
                     title=f"{metric.label} per {per} (UTC)", unit=UNITS[metric.field],
                     summable=metric.combine == "sum", chart_id=f"chart-{metric.wire_name}")


def _point(point: UsagePoint, span: UsageRange, value: int) -> Point:
    start = datetime.fromtimestamp(point.start_ms / 1000, tz=UTC)
    day = f"{start.day} {start:%b}"
    if span.bucket == "day":
        return Point(value=value, label=day, title=f"{day} {start.year}",
                     key=start.strftime("%Y-%m-%d"))
    label = day if start.hour == 0 else f"{start:%H}:00"
    return Point(value=value, label=label, title=f"{day} {start.year}, {start:%H}:00 UTC",
                 key=start.strftime("%Y-%m-%dT%H:00Z"))
