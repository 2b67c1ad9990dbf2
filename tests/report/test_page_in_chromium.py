"""The report as a browser shows it: headless Chromium renders the page to a screenshot that is
not blank, and logs nothing to the page's console (a script error would be logged there: the
first tests show that this check sees one, and sees a blank page)."""
import shutil
import subprocess

import numpy as np
import pytest

from bptt import report
from tests.report.helpers import history_of, tagger, tagging_data

pytest.importorskip("matplotlib", reason="the report draws with matplotlib (bptt[plot])")

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                "google-chrome"))), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed, and these tests render the page in "
                             "headless Chromium: install it with `apt-get install chromium`")


def render(page, tmp_path, height=2400):
    """Screenshot (H, W, channels) of the page, and the lines Chromium logged from its console."""
    import matplotlib.image

    html, png = tmp_path / "page.html", tmp_path / "page.png"
    html.write_text(page, encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
         "--v=0", f"--user-data-dir={tmp_path / 'profile'}", f"--window-size=1200,{height}",
         f"--screenshot={png}", html.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert png.exists(), f"no screenshot; Chromium said:\n{done.stderr[-3000:]}"
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return matplotlib.image.imread(png), console


def colours(screenshot):
    """How many distinct colours the screenshot has."""
    return len(np.unique(screenshot.reshape(-1, screenshot.shape[2]), axis=0))


def test_a_script_error_and_a_blank_page_are_seen(tmp_path):
    broken = ("<!DOCTYPE html><html><head><title>t</title></head><body><p>text</p>"
              "<script>notDefinedAnywhere();</script></body></html>")
    screenshot, console = render(broken, tmp_path, height=600)
    assert any("notDefinedAnywhere" in line for line in console), console
    blank, console = render("<!DOCTYPE html><html><body></body></html>", tmp_path, height=600)
    assert console == [] and colours(blank) < 5


def test_the_report_renders_with_no_console_message(tmp_path, rng):
    model = tagger()
    x, y = tagging_data(rng)
    history = history_of(model.fit(x, y, epochs=2, batch_size=3, validation_split=0.34,
                                   verbose=0))
    page = report.render(model, x[:2], y[:2], history=history,
                         words=[[f"w{i}" if i else None for i in row] for row in x[:2]])
    screenshot, console = render(page, tmp_path)
    assert console == []
    assert colours(screenshot) > 200  # text, curves and heatmaps: many colours
    drawn = (screenshot[..., :3] < 0.9).any(axis=-1)  # not white
    assert drawn.mean() > 0.03 and drawn[:300].any() and drawn[-1200:].any()
