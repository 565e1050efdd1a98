"""Colour for everyone: palettes checked under simulated colour-vision deficiencies, and the
contrast of the colours the app, the exports and the report use for text and controls."""

from __future__ import annotations

import re

import pytest

from mapping.app import a11y
from mapping.app import panes as app_page
from mapping.maps import folium_map
from mapping.maps.classify import NO_DATA_COLOUR, PALETTES, palette
from mapping.maps.colour import (
    MIN_CLASS_DIFFERENCE,
    adjacent_differences,
    ciede2000,
    contrast_ratio,
    delta_e,
    simulate_cvd,
)

DEFICIENCIES = ("protanopia", "deuteranopia")
KS = range(2, 10)  # the app offers 3–7 classes, the exports 2–9


# -- the functions, against published reference values --------------------------------------

@pytest.mark.parametrize(("lab1", "lab2", "expected"), [
    # Sharma, Wu and Dalal (2005), table 1, pairs 1, 7 and 17
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
])
def test_ciede2000_matches_the_reference_data(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


def test_simulation_keeps_greys_and_merges_red_and_green():
    for grey in ("#000000", "#777777", "#ffffff"):
        for kind in ("protanopia", "deuteranopia", "tritanopia"):
            assert delta_e(simulate_cvd(grey, kind), grey) < 1.5
    red, green = "#d62728", "#2ca02c"
    assert delta_e(red, green) > 60
    # the classic confusion: red and green close up for protanopes and deuteranopes
    assert delta_e(simulate_cvd(red, "deuteranopia"), simulate_cvd(green, "deuteranopia")) < 25
    assert delta_e(simulate_cvd(red, "protanopia"), simulate_cvd(green, "protanopia")) < 25
    with pytest.raises(ValueError, match="unknown deficiency"):
        simulate_cvd(red, "achromatopsia")
    with pytest.raises(ValueError, match="not a #rrggbb"):
        simulate_cvd("red", "protanopia")


def test_contrast_ratio_matches_wcag_examples():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


# -- every palette and number of classes ----------------------------------------------------

@pytest.mark.parametrize("name", PALETTES)
@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("kind", [None, *DEFICIENCIES])
def test_adjacent_classes_stay_distinguishable(name, k, kind):
    colours = palette(name, k)
    diffs = adjacent_differences(colours, kind)
    assert min(diffs) >= MIN_CLASS_DIFFERENCE, (name, k, kind, [round(d, 1) for d in diffs])


@pytest.mark.parametrize("name", PALETTES)
@pytest.mark.parametrize("kind", [None, *DEFICIENCIES])
def test_no_data_colour_is_unlike_every_class(name, kind):
    def seen(c):
        return simulate_cvd(c, kind) if kind else c

    for k in KS:
        for colour in palette(name, k):
            assert delta_e(seen(colour), seen(NO_DATA_COLOUR)) >= MIN_CLASS_DIFFERENCE, (
                name, k, colour)


@pytest.mark.parametrize("name", PALETTES)
def test_palettes_run_one_way_in_lightness(name):
    """Sequential: light (low) to dark (high) for every k, so order reads without hue."""
    from mapping.maps.colour import to_lab

    for k in KS:
        lightness = [to_lab(c)[0] for c in palette(name, k)]
        assert all(a > b for a, b in zip(lightness, lightness[1:], strict=False)), (name, k)


# -- text and control colours ---------------------------------------------------------------

def _pairs(css: str, prop: str) -> list[str]:
    return re.findall(prop + r"\s*:\s*(#[0-9a-fA-F]{3,6})", css)


def test_app_text_colours_meet_4_5_to_1():
    white = "#ffffff"
    for colour in _pairs(app_page.APP_CSS, r"(?<![-\w])color"):
        assert contrast_ratio(colour, white) >= 4.5, colour
    # note box: text on its yellow background
    assert contrast_ratio("#1a1a1a", "#fff4ce") >= 4.5
    # header: white on blue; level buttons: white on the active blue, blue on white
    assert contrast_ratio(white, "#0b4f9c") >= 4.5
    for colour in _pairs(a11y.BUTTON_GROUP_CSS, r"(?<![-\w])color"):
        assert contrast_ratio(colour, "#0b4f9c" if colour == white else white) >= 4.5


def test_focus_ring_and_control_borders_meet_3_to_1():
    ring = re.search(r"outline:\s*3px solid (#[0-9a-f]{6})", a11y.FOCUS_CSS).group(1)
    for background in ("#ffffff", "#f7f7f7"):
        assert contrast_ratio(ring, background) >= 3.0
    swatch_border = "#555555"
    assert contrast_ratio(swatch_border, "#ffffff") >= 3.0
    assert contrast_ratio("#0b4f9c", "#ffffff") >= 3.0  # outline buttons' border


def test_export_and_report_text_colours():
    css = folium_map._PAGE_CSS
    for colour in _pairs(css, r"(?<![-\w])color"):
        assert contrast_ratio(colour, "#ffffff") >= 4.5, colour
    from mapping.governance import report

    for colour in ("#1a1a1a", "#0b4f9c", "#8b0000", "#0b5d1e"):
        assert colour in report.TEMPLATE
        assert contrast_ratio(colour, "#ffffff") >= 4.5
    assert contrast_ratio("#1a1a1a", "#e8e8e8") >= 4.5  # table headings


def test_dark_always_means_more_risk():
    """Full-fibre coverage (higher is better): the lowest values get the darkest colour."""
    from mapping.maps.classify import classify, palette

    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    worse = classify(values, "equal_interval", 5, "viridis")
    better = classify(values, "equal_interval", 5, "viridis", higher_is_worse=False)
    assert list(worse.colours) == palette("viridis", 5)
    assert list(better.colours) == palette("viridis", 5)[::-1]
    assert better.colour_of()[0] == worse.colour_of()[-1]  # 10 % coverage: darkest
    assert better.labels == worse.labels  # labels stay in ascending order of value
