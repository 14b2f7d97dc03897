"""Pages anyone may read, signed in or not: accessibility statement, privacy, cookies."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import page_person
from api.rendering import render
from models import Person

router = APIRouter(include_in_schema=False)

PAGES = {
    "accessibility": "Accessibility statement",
    "privacy": "Privacy notice",
    "cookies": "Cookies",
}


def _page(name: str):  # type: ignore[no-untyped-def]
    def show(request: Request, person: Person | None = Depends(page_person)) -> Response:
        return render(request, f"pages/info/{name}.html", {"title": PAGES[name]}, person=person)

    return show


for _name in PAGES:
    router.add_api_route(f"/{_name}", _page(_name), methods=["GET"], response_class=HTMLResponse)
