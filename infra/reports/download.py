"""`GET /reports/{runId}/{file}`: a run's file, for a bearer token that may read the run's
project or for a signed link (`?exp=...&sig=...`, ReportRun.downloadUrl).

A foreign project's run answers exactly as an unknown one (404); a bad signature 403,
an expired link or a missing credential 401; files removed by the retention 410."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.access import Permission
from domain.errors import Unauthenticated
from domain.reports.links import LinkRefusal, ReportLinks
from domain.reports.model import ReportRun, RunStatus
from infra.auth import bearer_token
from infra.reports.wiring import report_links

__all__ = ["download_routes"]


def download_routes() -> list[Route]:
    return [Route("/reports/{run_id}/{file}", download, methods=["GET"])]


async def download(request: Request) -> Response:
    vigil: Any = request.app.state.vigil
    run_id = request.path_params["run_id"]
    name = request.path_params["file"]
    token = bearer_token(request.headers.get("authorization"))
    sig, exp = request.query_params.get("sig"), request.query_params.get("exp")
    reports = vigil.stores.reports
    run: ReportRun | None
    if token is not None:
        try:
            principal = await vigil.authenticate(
                token, client=request.client.host if request.client else ""
            )
        except Unauthenticated as exc:
            return _error(401, exc.message)
        run = await reports.get_run_by_id(run_id)
        if run is None or not principal.can(run.project, Permission.READ):
            return _error(404, f"no report run {run_id!r}")
    elif sig is not None and exp is not None:
        try:
            _links(request, vigil).check(
                run_id, name, exp=exp, sig=sig, now_us=vigil.clock.now_us()
            )
        except LinkRefusal as refusal:
            return _error(401 if str(refusal) == "expired" else 403, f"link refused: {refusal}")
        run = await reports.get_run_by_id(run_id)
        if run is None:
            return _error(404, f"no report run {run_id!r}")
    else:
        return _error(401, "a bearer token or a signed link (exp and sig) is required")
    if run.status is RunStatus.EXPIRED:
        return _error(410, "this run's files were removed after the report's retention")
    artefact = await vigil.stores.report_artefacts.get_artefact(run.project, run.id, name)
    if artefact is None:
        return _error(404, f"run {run_id!r} has no file {name!r}")
    return Response(
        artefact.content,
        media_type=artefact.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{_ascii(name)}"; '
            f"filename*=UTF-8''{quote(name, safe='')}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _links(request: Request, vigil: Any) -> ReportLinks:
    links: ReportLinks | None = getattr(request.app.state, "report_links", None)
    if links is None:
        links = report_links(vigil.settings)
        request.app.state.report_links = links
    return links


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
