"""The performance reports: each page as a signed-in officer, with the numbers a known mix of
measures must give, and the same numbers in the CSV and XLSX downloads.

The mix, at December 2009 (due 15 January 2010, cut-off 21 January):
  Communications:    C1 GREEN/GREEN on time; C2 computed RED overridden to AMBER, 3 days late,
                     commentary a formula; SX056 yearly, carried from March 2009, RED/RED.
  Customer service:  NI014a lower-is-better AMBER/GREEN, 5 days late, entered for an officer
                     the file names but nobody registered; PP18 no figure; PP19 data unavailable.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest

HOSTILE = '<script>window.x=1</script> & <b>bold</b> "Residents" satisfied'
FORMULA = '=HYPERLINK("http://evil.example","click")'
BEFORE_CUTOFF = datetime(2010, 1, 20, 12, tzinfo=UTC)
AFTER_CUTOFF = datetime(2010, 1, 22, 12, tzinfo=UTC)


def _at(day: int, month: int = 1, year: int = 2010) -> datetime:
    return datetime(year, month, day, 10, tzinfo=UTC)


def build(factory: Any) -> dict[str, Any]:
    """The scorecard of the module docstring, written straight through the models."""
    from core.db import write_session
    from models.performance import Figure, Measure, MeasureTarget, Scorecard

    gina = factory.person("Georgina Hayward")
    mark = factory.person("Mark Howell")
    now = _at(1)
    with write_session() as s:
        card = Scorecard(
            code="CCS-0910",
            name="Community and Customer Services 09/10",
            year=2009,
            portfolio="Policy & Performance",
            created_at=now,
        )
        s.add(card)
        s.flush()

        def measure(code: str, aim: str, **kw: Any) -> Measure:
            fields = {
                "name": f"Measure {code}",
                "approach": "Plain English",
                "frequency": "quarterly",
                "polarity": "higher",
                "unit": "percentage",
                "responsible_officer_id": gina.id,
                "data_source_officer_id": gina.id,
                "year_end_target": 100.0,
            } | kw
            m = Measure(scorecard_id=card.id, code=code, aim=aim, updated_at=now, **fields)
            s.add(m)
            s.flush()
            return m

        def target(m: Measure, period: str, value: float) -> None:
            s.add(MeasureTarget(measure_id=m.id, period=period, value=value))

        def figure(m: Measure, period: str, entered: datetime, **kw: Any) -> None:
            s.add(
                Figure(
                    measure_id=m.id,
                    period=period,
                    state=kw.pop("state", "entered"),
                    first_entered_at=entered,
                    entered_at=entered,
                    **kw,
                )
            )

        c1 = measure("C1", "Communications", name=HOSTILE)
        target(c1, "2009-12", 100)
        figure(c1, "2009-12", _at(10), actual=100, ytd_actual=100, estimate=100)
        c2 = measure("C2", "Communications", approach="Equalities")
        target(c2, "2009-12", 100)
        figure(
            c2,
            "2009-12",
            _at(18),
            actual=80,
            estimate=100,
            commentary=FORMULA,
            override_current="amber",
            override_reason="Survey delayed; on track for March",
        )
        sx = measure("SX056", "Communications", frequency="yearly", year_end_target=75.0)
        target(sx, "2009-03", 75)
        figure(sx, "2009-03", _at(10, 4, 2009), actual=63, estimate=63)
        ni = measure(
            "NI014a",
            "Customer service",
            approach="Avoidable contact",
            polarity="lower",
            year_end_target=30.0,
            data_source_officer_id=None,
            data_source_name="Phil Aldis",
        )
        target(ni, "2009-12", 30)
        figure(ni, "2009-12", _at(20), actual=32, estimate=29, commentary="@SUM(1+1)")
        pp18 = measure("PP18", "Customer service", data_source_officer_id=mark.id)
        target(pp18, "2009-12", 50)
        pp19 = measure("PP19", "Customer service")
        target(pp19, "2009-12", 50)
        figure(pp19, "2009-12", _at(12), state="unavailable", unavailable_reason="System move")
    return {"gina": gina, "mark": mark, "code": "CCS-0910"}


def build_other_scorecards(factory: Any) -> None:
    """Another 2009/10 scorecard in another portfolio (one measure, no figure yet), and a
    2008/09 one that no 2009/10 report may count."""
    from core.db import write_session
    from models.performance import Measure, Scorecard

    now = _at(1)
    with write_session() as s:
        for code, year, portfolio in (("HSG-0910", 2009, "Housing"), ("CCS-0809", 2008, "Old")):
            card = Scorecard(code=code, name=f"Scorecard {code}", year=year, portfolio=portfolio)
            card.created_at = now
            s.add(card)
            s.flush()
            s.add(
                Measure(
                    scorecard_id=card.id,
                    code="H1",
                    name="Homes let",
                    aim="Homes",
                    frequency="quarterly",
                    polarity="higher",
                    updated_at=now,
                )
            )


@pytest.fixture
def mix(factory: Any) -> dict[str, Any]:
    """The known mix of the module docstring (the conftest's `card` is the real file)."""
    return build(factory)


@pytest.fixture
def officer(client: Any, factory: Any, mix: dict[str, Any]) -> Any:
    """A client signed in as an officer with no part in any scorecard."""
    client.cookies.set("signoff_session", factory.sign_in(factory.person("Olive Officer")))
    return client


class _Rows(HTMLParser):
    """Each table row's cells as text, in page order (SVG text is in no table row)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def rows(html: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def by_first(html: str) -> dict[str, list[str]]:
    """Rows keyed by their first cell (a measure's code, an aim, a period)."""
    return {r[0].removesuffix(": history"): r for r in rows(html) if r}


def get(client: Any, path: str, at: datetime = BEFORE_CUTOFF) -> Any:
    from core import clock

    with clock.frozen(at):
        page = client.get(path, follow_redirects=False)
    return page


BASE = "/performance/scorecards/CCS-0910"
HEADERS = ["Code", "Measure", "Frequency", "Responsible officer", "Data source officer", "Unit"]
HEADERS += ["Target", "Actual", "YTD actual", "Year-end target", "Estimate", "Current RAG"]
HEADERS += ["Projected RAG", "Commentary", "State"]


# --- the pages -------------------------------------------------------------------------------


def test_the_detail_report_shows_each_measure_in_its_state(officer):
    page = get(officer, f"{BASE}?period=2009-12")
    assert page.status_code == 200, page.text[-2000:]
    html = page.text
    assert "Scorecard Performance Detail Report: December 2009" in html
    assert html.index("Aim: <bdi>Communications") < html.index("Aim: <bdi>Customer service")
    assert html.index("Approach: <bdi>Equalities") < html.index("Approach: <bdi>Plain English")
    found = by_first(html)
    assert rows(html)[0] == HEADERS
    c2 = dict(zip(HEADERS, found["C2"], strict=True))
    assert c2["Target"] == "100" and c2["Actual"] == "80" and c2["Estimate"] == "100"
    assert c2["Current RAG"] == "AMBER (computed RED) — Survey delayed; on track for March"
    assert c2["Projected RAG"] == "GREEN"
    assert c2["State"] == "Entered, 3 days late"
    sx = dict(zip(HEADERS, found["SX056"], strict=True))
    assert sx["Frequency"] == "Yearly" and sx["Target"] == "75" and sx["Actual"] == "63"
    assert sx["Current RAG"] == "RED" and sx["State"] == "Entered (figure for March 2009)"
    ni = dict(zip(HEADERS, found["NI014a"], strict=True))
    assert (
        ni["Data source officer"] == "Phil Aldis"
        and ni["Responsible officer"] == "Georgina Hayward"
    )
    assert ni["Current RAG"] == "AMBER" and ni["Projected RAG"] == "GREEN"
    assert ni["Unit"] == "percentage lower is better"
    assert found["PP18"][-1] == "Awaiting: due 15 January 2010, 5 days late"
    assert found["PP18"][HEADERS.index("Current RAG")] == "GREY"
    assert found["PP19"][-1] == "Data unavailable: System move"
    # Every colour is named in its tag, never shown by colour alone.
    for tag in re.findall(r'<strong class="govuk-tag govuk-tag--(\w+) signoff-rag">(\w+)<', html):
        assert tag in {("green", "GREEN"), ("yellow", "AMBER"), ("red", "RED"), ("grey", "GREY")}


def test_after_the_cutoff_a_missing_figure_is_grey(officer):
    found = by_first(get(officer, f"{BASE}?period=2009-12", AFTER_CUTOFF).text)
    assert found["PP18"][-1] == "Missing (GREY): was due 15 January 2010, 7 days late"
    assert found["PP18"][HEADERS.index("Current RAG")] == "GREY"


def test_hostile_names_and_commentary_are_escaped(officer):
    for path in (f"{BASE}?period=2009-12", f"{BASE}/measures/C1"):
        html = get(officer, path).text
        assert "<script>window.x=1" not in html and "<b>bold</b>" not in html
        assert "&lt;script&gt;window.x=1&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert '<title id="history-title">Target and actual of C1 &lt;script&gt;' in svg
    detail = get(officer, f"{BASE}?period=2009-12").text
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in detail


SUMMARY = {  # aim: measures, then (count, %) for GREEN, AMBER, RED, GREY
    "Communications": ["3", "1", "34%", "1", "33%", "1", "33%", "0", "0%"],
    "Customer service": ["3", "0", "0%", "1", "33%", "0", "0%", "2", "67%"],
    "Total": ["6", "1", "17%", "2", "33%", "1", "17%", "2", "33%"],
}
PROJECTED_TOTAL = ["6", "3", "50%", "0", "0%", "1", "17%", "2", "33%"]


def test_the_rag_summary_counts_and_percentages(officer, factory):
    from core.db import read_session
    from models.performance import Scorecard
    from services.performance import report
    from services.performance.reports import find_scorecard

    html = get(officer, f"{BASE}/summary?period=2009-12").text
    tables = html.split('id="projected"')
    current, projected = rows(tables[0]), rows(tables[1])
    assert current[0] == ["Aim", "Measures", "GREEN", "% GREEN", "AMBER", "% AMBER", "RED"] + [
        "% RED",
        "GREY",
        "% GREY",
    ]
    assert {r[0]: r[1:] for r in current[1:]} == SUMMARY
    assert projected[-1] == ["Total", *PROJECTED_TOTAL]
    for r in current[1:] + projected[1:]:
        assert sum(int(p.rstrip("%")) for p in r[3::2]) == 100
    # The API's summary (report.rag_summary) says the same.
    with read_session() as s:
        scorecard: Scorecard = find_scorecard(s, "CCS-0910")
        api = report.rag_summary(s, scorecard=scorecard, period="2009-12")
    assert api["total"]["current"] == {"green": 1, "amber": 2, "red": 1, "grey": 2}


def test_completeness_per_aim_and_per_portfolio_with_a_chart(officer, factory):
    build_other_scorecards(factory)
    html = get(officer, f"{BASE}/completeness?period=2009-12").text
    aims, portfolios = html.split("By portfolio</h2>")
    found = by_first(aims)
    assert found["Communications"] == ["Communications", "3", "3", "0", "0", "100%"]
    assert found["Customer service"] == ["Customer service", "3", "2", "1", "0", "67%"]
    assert found["Total"] == ["Total", "6", "5", "1", "0", "83%"]
    theirs = by_first(portfolios)
    assert theirs["Policy & Performance"][1:] == ["6", "5", "1", "0", "83%"]
    assert theirs["Housing"][1:] == ["1", "0", "1", "0", "0%"]
    assert theirs["All portfolios"][1:] == ["7", "5", "2", "0", "71%"]
    assert "Old" not in theirs  # 2008/09's scorecard is not this year's
    svg = aims[aims.index("<svg") : aims.index("</svg>")]
    assert 'role="img" aria-labelledby="aims-title aims-desc"' in svg
    assert "Communications: 100% in, 3 of 3. Customer service: 67% in, 2 of 3." in svg
    assert re.findall(r'<rect x="0" y="\d+" width="([\d.]+)" height="18" fill="#1d70b8"', svg) == [
        "480.0",
        "321.6",
    ]
    after = by_first(get(officer, f"{BASE}/completeness?period=2009-12", AFTER_CUTOFF).text)
    assert after["Customer service"] == ["Customer service", "3", "2", "0", "1", "67%"]
    # The download has the page's numbers, aims then portfolios.
    table = _csv(get(officer, f"{BASE}/completeness?period=2009-12&format=csv"))
    rows = {(r[0], r[1]): r[2:] for r in table[1:]}
    assert rows[("Aim", "Customer service")] == ["3", "2", "1", "0", "67"]
    assert rows[("Aim", "Total")] == ["6", "5", "1", "0", "83"]
    assert rows[("Portfolio", "All portfolios")] == ["7", "5", "2", "0", "71"]


def test_late_figures_by_officer_most_late_first(officer):
    html = get(officer, f"{BASE}/late?period=2009-12").text
    officers = re.findall(r'<h2 class="govuk-heading-m" id="officer-\d+"><bdi>([^<]+)</bdi>', html)
    assert officers == ["Mark Howell", "Phil Aldis", "Georgina Hayward"]
    assert "3 late figures from 3 officers." in html
    found = by_first(html)
    assert found["PP18"][4:] == ["5", "Awaiting: due 15 January 2010, 5 days late"]
    assert found["NI014a"][4:] == ["5", "Entered, 5 days late"]
    assert found["C2"][4:] == ["3", "Entered, 3 days late"]
    assert "PP19" not in found and "SX056" not in found and "C1" not in found
    phil = html.split("Phil Aldis</bdi></h2>")[1].split("<table")[0]
    assert "not matched to a registered person" in phil


def test_a_measures_history_over_its_periods(officer):
    html = get(officer, f"{BASE}/measures/C2").text
    found = by_first(html)
    periods = [
        r[0]
        for r in rows(html)
        if r and r[0].endswith(("2009: the detail report", "2010: the detail report"))
    ]
    assert periods == [
        f"{p}: the detail report"
        for p in ("June 2009", "September 2009", "December 2009", "March 2010")
    ]
    dec = found["December 2009: the detail report"]
    assert dec[1:3] == ["100", "80"]
    assert dec[5] == "AMBER (computed RED) — Survey delayed; on track for March"
    assert 'role="img" aria-labelledby="history-title history-desc"' in html
    assert "December 2009: target 100, actual 80." in html
    assert html.count('<circle cx="') == 2  # the legend's and December's actual
    yearly = by_first(get(officer, f"{BASE}/measures/SX056").text)
    assert yearly["March 2009: the detail report"][1:3] == ["75", "63"]
    assert "March 2010: the detail report" in yearly


def test_the_list_of_scorecards_and_its_period_picker(officer, factory):
    build_other_scorecards(factory)
    html = get(officer, "/performance").text
    assert 'name="period" type="text" value="2009-12"' in html  # the last month ended
    assert f'href="{BASE}?period=2009-12"' in html
    assert 'href="/performance/scorecards/CCS-0809?period=2009-03"' in html  # its year's end
    found = by_first(html)
    assert found["Community and Customer Services 09/10 (CCS-0910)"][1:4] == [
        "Policy & Performance",
        "2009/10",
        "6",
    ]
    chosen = get(officer, "/performance?period=2009-09").text
    assert f'href="{BASE}/late?period=2009-09"' in chosen
    assert 'href="/performance/scorecards/CCS-0809/summary?period=2009-09"' in chosen


ALL_PAGES = [
    "/performance",
    f"{BASE}",
    f"{BASE}/summary",
    f"{BASE}/completeness",
    f"{BASE}/late",
    f"{BASE}/measures/C2",
]


def test_signed_out_people_are_sent_to_sign_in_and_back(client, mix):
    for path in ALL_PAGES:
        page = get(client, f"{path}?period=2009-12")
        assert page.status_code == 303, path
        assert page.headers["location"] == "/sign-in?next=" + quote(
            f"{path}?period=2009-12", safe=""
        )


def test_an_unknown_scorecard_or_measure_is_404(officer):
    for path in ALL_PAGES[1:]:
        page = get(officer, path.replace("CCS-0910", "NOPE"))
        assert page.status_code == 404, path
        assert "There is no scorecard with the code NOPE." in page.text
    page = get(officer, f"{BASE}/measures/NOPE")
    assert page.status_code == 404
    assert "has no measure with the code NOPE" in page.text


@pytest.mark.parametrize(
    "period", ["2009-13", "<script>alert(1)</script>", "2009-1", "1999-12", "x" * 500]
)
def test_a_malformed_period_is_a_400_saying_so(officer, period):
    for path in ALL_PAGES[:-1]:
        page = officer.get(path, params={"period": period}, follow_redirects=False)
        assert page.status_code == 400, (path, page.text[-1000:])
        assert "is not a period. Give its last month as YYYY-MM" in page.text
        assert "<script>alert(1)" not in page.text
        if period.startswith("<"):
            assert "“&lt;script&gt;alert(1)&lt;/sc…”" in page.text


def test_an_unknown_download_format_is_a_400(officer):
    page = get(officer, f"{BASE}?period=2009-12&format=pdf")
    assert page.status_code == 400
    assert "format=csv or format=xlsx" in page.text


# --- the downloads ---------------------------------------------------------------------------


DOWNLOADS = {
    f"{BASE}?period=2009-12": "CCS-0910-2009-12-detail",
    f"{BASE}/summary?period=2009-12": "CCS-0910-2009-12-rag-summary",
    f"{BASE}/late?period=2009-12": "CCS-0910-2009-12-late",
    f"{BASE}/completeness?period=2009-12": "CCS-0910-2009-12-completeness",
    f"{BASE}/measures/C2?": "CCS-0910-C2-history",
}


def _csv(page: Any) -> list[list[str]]:
    assert page.content.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    return list(csv.reader(io.StringIO(page.content.decode("utf-8-sig"), newline="")))


def _xlsx(page: Any) -> list[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(page.content))
    return [[c for c in row] for row in book.active.iter_rows()]


def _as_text(cell: Any) -> str:
    """An XLSX cell as the CSV writes it (a risky text keeps its apostrophe there)."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return "'" + text if cell.data_type == "s" and cell.quotePrefix else text


@pytest.mark.parametrize("path", DOWNLOADS)
def test_csv_and_xlsx_carry_the_same_cells(officer, path):
    sep = "&" if "?" in path else "?"
    as_csv = get(officer, f"{path}{sep}format=csv")
    as_xlsx = get(officer, f"{path}{sep}format=xlsx")
    name = DOWNLOADS[path]
    assert as_csv.status_code == as_xlsx.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
    assert as_xlsx.headers["content-disposition"] == f'attachment; filename="{name}.xlsx"'
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    from_csv = _csv(as_csv)
    from_xlsx = [[_as_text(c) for c in row] for row in _xlsx(as_xlsx)]
    assert len(from_csv) > 1 and from_csv == from_xlsx


def test_the_detail_download_has_the_pages_numbers_and_no_live_formula(officer):
    table = _csv(get(officer, f"{BASE}?period=2009-12&format=csv"))
    head = table[0]
    lines = {r[head.index("Code")]: dict(zip(head, r, strict=True)) for r in table[1:]}
    assert list(lines) == ["C2", "C1", "SX056", "NI014a", "PP18", "PP19"]
    c2 = lines["C2"]
    assert (c2["Target"], c2["Actual"], c2["Estimate"]) == ("100", "80", "100")
    assert (c2["Current RAG"], c2["Current RAG computed"]) == ("AMBER", "RED")
    assert c2["Override reason"] == "Survey delayed; on track for March"
    assert c2["Commentary"] == "'" + FORMULA
    assert lines["NI014a"]["Commentary"] == "'@SUM(1+1)"
    assert lines["NI014a"]["Data source officer"] == "Phil Aldis"
    assert lines["SX056"]["Figure period"] == "2009-03"
    assert lines["SX056"]["State"] == "Entered (figure for March 2009)"
    assert lines["C1"]["Measure"] == HOSTILE  # text, as the file gave it
    book = _xlsx(get(officer, f"{BASE}?period=2009-12&format=xlsx"))
    cells = {row[2].value: row for row in book[1:]}
    commentary = cells["C2"][book[0].index(next(c for c in book[0] if c.value == "Commentary"))]
    assert commentary.value == FORMULA and commentary.data_type == "s" and commentary.quotePrefix
    actual = cells["C2"][[c.value for c in book[0]].index("Actual")]
    assert actual.value == 80 and actual.data_type == "n"


def test_the_summary_and_late_downloads_match_the_pages(officer):
    summary = _csv(get(officer, f"{BASE}/summary?period=2009-12&format=csv"))
    assert summary[0][:4] == ["Aim", "Measures", "Current GREEN", "Current GREEN %"]
    total = summary[-1]
    assert total[0] == "Total"
    assert total[1:10] == ["6", "1", "17", "2", "33", "1", "17", "2", "33"]
    assert total[10:] == ["3", "50", "0", "0", "1", "17", "2", "33"]
    late = _csv(get(officer, f"{BASE}/late?period=2009-12&format=csv"))
    assert [(r[0], r[1], r[2], r[6]) for r in late[1:]] == [
        ("Mark Howell", "Yes", "PP18", "5"),
        ("Phil Aldis", "No", "NI014a", "5"),
        ("Georgina Hayward", "Yes", "C2", "3"),
    ]
    assert late[1][5] == "2010-01-15"


def test_risky_text_is_neutralised_and_numbers_stay_numbers():
    from services.performance.report_files import Sheet, csv_bytes, filename, neutralise

    for risky in ("=1+1", "+1", "-1 fewer", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(risky) == "'" + risky
    for safe in ("1+1", "a=b", "", "Phil"):
        assert neutralise(safe) == safe
    sheet = Sheet("T", "t", ["=H"], [[-5.0, -5, "-5", 1234567.0, 0.1 + 0.2, None]])
    out = list(csv.reader(io.StringIO(csv_bytes(sheet).decode("utf-8-sig"), newline="")))
    assert out == [["'=H"], ["-5", "-5", "'-5", "1234567", "0.30000000000000004", ""]]
    assert filename("ACTION 22", "../x\r\n", "history") == "ACTION_22-.._x_-history"
    assert filename("", "") == "report"


def test_chart_geometry():
    from services.performance import report_charts
    from services.performance.reports import Complete

    assert [report_charts.nice_step(s) for s in (100, 7, 0.3, 0)] == [50, 2, 0.1, 1]
    chart = report_charts.bars([Complete("A" * 100, 4, 3, 1, 0, 75), Complete("B", 1, 0, 0, 1, 0)])
    assert [(b.y, b.width, b.text) for b in chart.bars] == [
        (8, 360.0, "75% (3 of 4)"),
        (56, 0.0, "0% (0 of 1)"),
    ]
    assert chart.bars[0].label == "A" * 69 + "…" and chart.height == 112


def test_the_real_scorecard_reads_the_same_on_every_page_and_download(client, factory, card):
    """data/scorecard_ccs_2009-10_q3.csv imported: 77 measures on the detail report and in
    its CSV, and the RAG summary's total is the API's (report.rag_summary)."""
    from support.performance import CODE, file_rows

    from core.db import read_session
    from services.performance import report
    from services.performance.reports import find_scorecard

    client.cookies.set("signoff_session", factory.sign_in(factory.person("Olive Officer")))
    at = datetime(2010, 1, 22, 12, tzinfo=UTC)
    base = f"/performance/scorecards/{CODE}"
    codes = {r["code"] for r in file_rows()}
    detail = by_first(get(client, f"{base}?period=2009-12", at).text)
    assert codes <= detail.keys() and len(codes) == 77
    table = _csv(get(client, f"{base}?period=2009-12&format=csv", at))
    assert sorted(r[2] for r in table[1:]) == sorted(codes)
    summary = _csv(get(client, f"{base}/summary?period=2009-12&format=csv", at))
    with read_session() as s:
        api = report.rag_summary(s, scorecard=find_scorecard(s, CODE), period="2009-12")
    total = summary[-1]
    assert total[:2] == ["Total", "77"] and api["total"]["measures"] == 77
    assert [int(total[2 + 2 * i]) for i in range(4)] == list(api["total"]["current"].values())
    assert [int(total[10 + 2 * i]) for i in range(4)] == list(api["total"]["projected"].values())
