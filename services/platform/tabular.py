"""Read an uploaded or named CSV or XLSX file as rows of text keyed by lower-case header.

Shared by every import (scorecards, people, operational plans). Files are bounded in size and
rows, cells are text (an XLSX number 75.0 reads "75"), and a file that is neither a CSV in
UTF-8 nor an XLSX workbook is refused with a message a person can act on.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.platform.errors import Invalid

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_CELL = 10_000
ROW = "_row"  # the key under which each row holds its number in the file


def read(path: str | Path) -> list[dict[str, str]]:
    """The rows of a .csv or .xlsx file named by path."""
    p = Path(path)
    if not p.is_file():
        raise Invalid(f"{p} is not a file.")
    if p.stat().st_size > MAX_BYTES:
        raise Invalid(f"{p.name} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    return parse(p.read_bytes(), p.name)


def parse(data: bytes, filename: str) -> list[dict[str, str]]:
    """The rows of a CSV or XLSX file's bytes (the kind told by its content, not its name)."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"{filename} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if data[:4] == b"PK\x03\x04":
        return _xlsx(data, filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(f"{filename} is neither a UTF-8 CSV file nor an XLSX workbook.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        table = list(_bounded(reader, filename))
    except csv.Error as exc:
        raise Invalid(f"{filename} is not a CSV file this can read: {exc}.") from None
    return _keyed(table, filename)


def _bounded(rows: Any, filename: str) -> Any:
    for n, row in enumerate(rows):
        if n > MAX_ROWS:
            raise Invalid(f"{filename} has more than {MAX_ROWS:,} rows.")
        yield row


def _xlsx(data: bytes, filename: str) -> list[dict[str, str]]:
    from openpyxl import load_workbook  # only imports that read a workbook pay for it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Invalid(f"{filename} is not an XLSX workbook this can read ({exc}).") from None
    try:
        sheet = book.worksheets[0]
        table = [
            [_cell(v) for v in row] for row in _bounded(sheet.iter_rows(values_only=True), filename)
        ]
    finally:
        book.close()
    return _keyed(table, filename)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _keyed(table: list[list[str]], filename: str) -> list[dict[str, str]]:
    # Blank rows are skipped, but each row keeps its number in the file (ROW), so a problem
    # is reported on the row a person sees in their spreadsheet.
    lines = [(n, row) for n, row in enumerate(table, start=1) if any(str(c).strip() for c in row)]
    if not lines:
        raise Invalid(f"{filename} is empty.")
    header = [str(h).strip().lower().replace(" ", "_") for h in lines[0][1]]
    out = []
    for n, row in lines[1:]:
        cells = [str(c).strip() for c in row] + [""] * (len(header) - len(row))
        if any(len(c) > MAX_CELL for c in cells):
            raise Invalid(f"{filename}: row {n} has a cell longer than {MAX_CELL:,} characters.")
        out.append(dict(zip(header, cells, strict=False)) | {ROW: str(n)})
    return out


def numbered(rows: list[dict[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row with its number in the file (rows built by hand: counted from 2, under a
    header)."""
    for position, row in enumerate(rows, start=2):
        yield int(row.get(ROW) or position), row


def require_columns(rows: list[dict[str, str]], needed: list[str], filename: str) -> None:
    present = set(rows[0]) if rows else set()
    missing = [c for c in needed if c not in present]
    if missing:
        raise Invalid(
            f"{filename} has no column {', '.join(missing)}: it needs {', '.join(needed)}."
        )
