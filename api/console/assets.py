"""Browser assets served by the app itself, from the npm packages that ``make install`` fetches
(pinned by ``package-lock.json``): no CDN, so the console, ``/docs`` and ``/redoc`` work offline.

Only the files named here are served. The GOV.UK crown, its images and the GDS Transport
typeface stay out: they are reserved for GOV.UK, and councils use the components under their own
name (the styles are served without the typeface: ``without_typeface``)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.problems import ProblemError

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules"
HERE = Path(__file__).resolve().parent
ASSETS = {
    "govuk-frontend.min.css": NODE / "govuk-frontend/dist/govuk/govuk-frontend.min.css",
    "govuk-frontend.min.js": NODE / "govuk-frontend/dist/govuk/govuk-frontend.min.js",
    "console.css": HERE / "static/console.css",
    "console.js": HERE / "static/console.js",
    "swagger-ui.css": NODE / "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-bundle.js": NODE / "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-init.js": HERE / "static/swagger-init.js",
    "redoc.standalone.js": NODE / "redoc/bundles/redoc.standalone.js",
    "axe.min.js": NODE / "axe-core/axe.min.js",
}
TYPES = {".css": "text/css", ".js": "text/javascript"}
CACHE = {"Cache-Control": "public, max-age=86400"}
GOVUK_CSS = "govuk-frontend.min.css"
router = APIRouter(include_in_schema=False)


@router.get("/ui/assets/{name}", response_model=None)
def asset(name: str) -> Response:
    """One of the named assets, cached for a day (the lock pins their content)."""
    path = ASSETS.get(name)
    if path is None or not path.is_file():
        raise ProblemError(404, "not-found", "No such asset", f"{name!r} is not served")
    if name == GOVUK_CSS:
        return Response(without_typeface(path), media_type="text/css", headers=CACHE)
    return FileResponse(path, media_type=TYPES[path.suffix], headers=CACHE)


@lru_cache(maxsize=1)
def without_typeface(path: Path) -> str:
    """GOV.UK Frontend's styles without the GDS Transport typeface (reserved for GOV.UK): its
    font faces removed, its name dropped from every font stack (Arial follows it there)."""
    css = path.read_text(encoding="utf-8")
    css = re.sub(r"@font-face\{font-family:GDS Transport;[^}]*\}", "", css)
    return css.replace("font-family:GDS Transport,", "font-family:").replace(
        "font-family:GDS Transport", "font-family:arial,sans-serif"
    )


def missing_assets() -> list[str]:
    """The named assets not on disk (``make install`` runs ``npm ci`` to fetch them)."""
    return sorted(name for name, path in ASSETS.items() if not path.is_file())


DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CareLedger API</title>
<link rel="stylesheet" href="/ui/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/ui/assets/swagger-ui-bundle.js"></script>
<script src="/ui/assets/swagger-init.js"></script></body></html>
"""
REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CareLedger API</title></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/ui/assets/redoc.standalone.js"></script></body></html>
"""


@router.get("/docs", response_class=HTMLResponse)
def docs() -> HTMLResponse:
    """Swagger UI from the app's own copy of ``swagger-ui-dist``."""
    return HTMLResponse(DOCS)


@router.get("/redoc", response_class=HTMLResponse)
def redoc() -> HTMLResponse:
    """ReDoc from the app's own copy of ``redoc``."""
    return HTMLResponse(REDOC)
