"""The one spreadsheet writer of the portal (CSV and XLSX): every cell spreadsheet-safe.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (after any
leading spaces) is a formula to Excel, LibreOffice or Google Sheets, and a complaint title or an
agency name is written by someone outside. Such a cell gets a leading apostrophe, which the
spreadsheet shows as text. A plain number (``-3``, ``+1.5``) is left as it is: it runs nothing.
Every CSV the portal writes (the staff export, the ranking) goes through ``safe_writer``.

Two more forms for people who open the file in a spreadsheet:

- ``excel_id_writer``: the CSV Indonesian Excel opens as columns (Excel takes the list separator
  from the regional settings: in Indonesian, ";" with "," as the decimal mark). The caller writes
  numbers with a decimal comma; the UTF-8 byte order mark comes first.
- ``xlsx_bytes``: an Excel workbook (openpyxl) whose numbers are numbers; text is always stored as
  text, never as a formula, and a cell that would look like one is marked with Excel's own
  leading apostrophe (the "quote prefix" style), so Excel shows it and never runs it.
"""

import csv
import io
import re
from decimal import Decimal

BOM = "\ufeff"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[-+]?\d+([.,]\d+)?$")


def spreadsheet_safe(value) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if text.lstrip(" ").startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


class SafeWriter:
    """``csv.writer`` whose rows are made spreadsheet-safe cell by cell."""

    def __init__(self, output, **kwargs):
        self._writer = csv.writer(output, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def safe_writer(output, **kwargs) -> SafeWriter:
    return SafeWriter(output, **kwargs)


def excel_id_writer(output) -> SafeWriter:
    """The CSV form Indonesian Excel opens: ";" between cells (numbers with a decimal comma,
    written by the caller). Write ``BOM`` first."""
    return SafeWriter(output, delimiter=";")


class Number:
    """A numeric cell for ``xlsx_bytes``: the value, shown with ``places`` decimals."""

    __slots__ = ("value", "places")

    def __init__(self, value, places: int = 0):
        self.value = value
        self.places = places


def xlsx_bytes(rows, *, title: str = "Sheet1") -> bytes:
    """An .xlsx workbook of one sheet. A cell is text (stored as text, formula-safe), None,
    a ``Number``, or an int/float/Decimal (a number as it is)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    # A sheet title may not hold []:*?/\ and has at most 31 characters.
    sheet = workbook.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet1")
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, Number):
                cell = WriteOnlyCell(sheet, value=value.value)
                cell.number_format = "0" if not value.places else "0." + "0" * value.places
            elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                cell = WriteOnlyCell(sheet, value=value)
            else:
                text = "" if value is None else str(value)
                cell = WriteOnlyCell(sheet, value=text)
                cell.data_type = "s"  # never a formula, whatever it starts with
                if text.lstrip(" ").startswith(FORMULA_STARTS):
                    cell.quotePrefix = True
            out.append(cell)
        sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
