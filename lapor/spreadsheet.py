"""The one CSV writer of the portal: every cell spreadsheet-safe.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (after any
leading spaces) is a formula to Excel, LibreOffice or Google Sheets, and a complaint title or an
agency name is written by someone outside. Such a cell gets a leading apostrophe, which the
spreadsheet shows as text. A plain number (``-3``, ``+1.5``) is left as it is: it runs nothing.
Every CSV the portal writes (the staff export, the ranking) goes through ``safe_writer``.
"""

import csv
import re

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
