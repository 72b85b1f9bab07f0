"""CI keeps the every-page test's screenshots in one folder and says where it is at the end."""

import re
import subprocess
from pathlib import Path

from tests.lapor import test_every_page

CI_RUN = Path(__file__).resolve().parents[2] / ".ci" / "run"


def test_ci_points_the_screenshots_to_one_folder_and_prints_it(tmp_path):
    script = CI_RUN.read_text()
    block = re.search(
        r"^export LAPOR_SCREENSHOT_DIR=.*?^trap screenshots_where EXIT$", script, re.S | re.M
    )
    assert block, "the screenshot folder and its trap are set before the tests run"
    assert script.index(block.group(0)) < script.index("make test")
    # Run that part of the script in an empty folder: the path is printed when the shell ends.
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.group(0) + '\ntest -n "$LAPOR_SCREENSHOT_DIR"'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().endswith(str(tmp_path / "var" / "ci-screenshots"))
    # Later traps keep printing it.
    assert all("screenshots_where" in line for line in re.findall(r"^trap .*EXIT$", script, re.M))


def test_the_every_page_test_writes_where_the_variable_says(monkeypatch, tmp_path):
    source = Path(test_every_page.__file__).read_text()
    assert 'os.environ.get("LAPOR_SCREENSHOT_DIR")' in source
    assert "page.screenshot(path=SCREENSHOTS" in source
