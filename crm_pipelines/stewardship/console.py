"""crm-mdm steward: a small server-rendered web console for data stewards on 127.0.0.1.

Starlette routes render Jinja2 templates; every request opens the published warehouse
read-only and closes it (console_data.read_only), so the console never blocks a run.
Decisions are appended to the landing's steward_decision feed and applied by the next run.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode

import uvicorn
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from crm_pipelines.stewardship.console_data import (
    GOLDEN,
    find_golden,
    queue_counts,
    review_pair,
    review_queue,
)
from crm_pipelines.stewardship.decisions import StewardDecision, append_decision, now_utc
from crm_pipelines.stewardship.golden_view import golden_record, source_quality

HOST = "127.0.0.1"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)
LEVEL_CLASS = {"same": "same", "similar": "similar", "different": "different", "missing": "missing"}


def _page(name: str, status_code: int = 200, **context) -> HTMLResponse:
    html = TEMPLATES.get_template(name).render(level_class=LEVEL_CLASS, **context)
    return HTMLResponse(html, status_code=status_code)


def _pair_link(row: dict) -> str:
    query = {
        "entity": row["entity"],
        "left": row["left_record_key"],
        "right": row["right_record_key"],
    }
    return "/pair?" + urlencode(query)


class _Console:
    """The console's pages over one published warehouse and one landing folder."""

    def __init__(self, warehouse: Path, landing: Path) -> None:
        self.warehouse, self.landing = Path(warehouse), Path(landing)

    async def queue(self, request: Request) -> Response:
        entity = request.query_params.get("entity") or None
        pairs = review_queue(self.warehouse, self.landing)
        counts = queue_counts(pairs)
        if entity is None and counts:
            entity = next(
                (c["entity"] for c in counts if c["entity"] == "customer"), counts[0]["entity"]
            )
        shown = pairs.filter(pairs["entity"] == entity).to_dicts() if entity else []
        for row in shown:
            row["link"] = _pair_link(row)
        return _page(
            "queue.html",
            entity=entity,
            counts=counts,
            pairs=shown,
            message=request.query_params.get("message"),
        )

    async def pair(self, request: Request) -> Response:
        params = request.query_params
        found = review_pair(
            self.warehouse,
            self.landing,
            params.get("entity", ""),
            params.get("left", ""),
            params.get("right", ""),
        )
        if found is None:
            return _page(
                "message.html",
                404,
                title="Pair not in the queue",
                text="This pair is not in the review queue of the published warehouse.",
            )
        following = review_queue(self.warehouse, self.landing, found["entity"]).to_dicts()
        keys = [(r["left_record_key"], r["right_record_key"]) for r in following]
        at = keys.index((found["left_record_key"], found["right_record_key"]))
        next_link = _pair_link(following[at + 1]) if at + 1 < len(following) else None
        return _page(
            "pair.html", pair=found, next_link=next_link, steward=request.cookies.get("steward", "")
        )

    async def decide(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
        if form.get("decision") == "SKIP":
            return RedirectResponse(
                form.get("next") or f"/queue?entity={form.get('entity', '')}", 303
            )
        left_system, _, left_id = form.get("left", "").partition("|")
        right_system, _, right_id = form.get("right", "").partition("|")
        try:
            decision = StewardDecision(
                entity=form.get("entity", ""),
                left_source_system=left_system,
                left_source_id=left_id,
                right_source_system=right_system,
                right_source_id=right_id,
                decision=form.get("decision", ""),
                decided_by=form.get("decided_by", ""),
                decided_at=now_utc(),
                note=form.get("note", ""),
            )
        except ValueError as exc:
            return _page("message.html", 400, title="Decision not recorded", text=str(exc))
        append_decision(self.landing, decision)
        message = (
            f"{decision.decision} recorded for {form['left']} and {form['right']} "
            "- the next run applies it."
        )
        target = RedirectResponse(
            f"/queue?{urlencode({'entity': decision.entity, 'message': message})}", 303
        )
        target.set_cookie("steward", decision.decided_by, httponly=True, samesite="strict")
        return target

    async def golden_search(self, request: Request) -> Response:
        text = request.query_params.get("q", "").strip()
        found = find_golden(self.warehouse, text) if text else []
        return _page("search.html", q=text, found=found)

    async def golden(self, request: Request) -> Response:
        entity, golden_id = request.path_params["entity"], request.path_params["golden_id"]
        if entity not in GOLDEN:
            return _page("message.html", 404, title="Unknown entity", text=entity)
        record = golden_record(self.warehouse, self.landing, entity, golden_id)
        if record is None:
            return _page("message.html", 404, title="No such golden record", text=golden_id)
        return _page("golden.html", g=record)

    async def quality(self, request: Request) -> Response:
        return _page("quality.html", q=source_quality(self.warehouse))

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/queue", 303)


def create_app(warehouse: Path, landing: Path) -> Starlette:
    """The console over one published warehouse and one landing folder."""
    console = _Console(warehouse, landing)
    return Starlette(
        routes=[
            Route("/", console.home),
            Route("/queue", console.queue),
            Route("/pair", console.pair),
            Route("/decide", console.decide, methods=["POST"]),
            Route("/golden", console.golden_search),
            Route("/golden/{entity}/{golden_id}", console.golden),
            Route("/quality", console.quality),
        ]
    )


def serve(warehouse: Path, landing: Path, port: int) -> None:
    """Serve the console on 127.0.0.1 until interrupted."""
    print(f"steward console on http://{HOST}:{port}/ (warehouse {warehouse}, landing {landing})")
    uvicorn.run(create_app(warehouse, landing), host=HOST, port=port, log_level="warning")
