"""Every GOV.UK override class a page asks for exists in the stylesheet Signoff builds: an
unknown one (govuk-!-font-size-14 is not in GOV.UK Frontend 6) styles nothing, and the hint
it was meant to shrink came out larger than the text it annotates."""

from __future__ import annotations

import re
from pathlib import Path

from support.browser import require

ROOT = Path(__file__).resolve().parents[2]
CSS = ROOT / "static" / "assets" / "govuk-frontend.min.css"


def test_every_govuk_override_class_used_is_in_the_built_stylesheet():
    require(CSS.exists(), "assets not built (make assets)")
    css = CSS.read_text()
    sources = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "api").rglob("*.py")]
    used = {c for f in sources for c in re.findall(r"govuk-!-[a-z0-9-]+", f.read_text())}
    assert "govuk-!-margin-bottom-0" in used  # the scan finds them
    missing = sorted(c for c in used if "." + c.replace("!", "\\!") not in css)
    assert missing == []
