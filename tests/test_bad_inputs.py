"""Bad input through the real entry points: `mapping build`, `mapping validate` and an analyst's
indicator file (``--indicators``). Each broken input gives a clear message and exit status 2, and
the previous outputs and releases are byte-identical afterwards; a build killed half-way leaves
them intact too. Missing-value markers and rows outside London are not errors: they are counted
per indicator in `mapping validate` and in the manifest.

The cases live in ``tests/_bad_inputs.py``; ``python -m benchmarks.bad_inputs_table`` prints
them as a table of case → message.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from mapping import files as io
from mapping.outputs import OutputsError, load_outputs
from mapping.pipeline.build import PROCESSED, publish
from tests._bad_inputs import (
    CASES,
    Context,
    good_user_frame,
    london_2011_codes,
    run_case,
    run_cli,
    seed_outputs,
    snapshot,
    user_values,
    write_user,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def london(processed_dir) -> list[str]:
    return pd.read_csv(processed_dir / "lsoa21_indicators.csv",
                       usecols=["lsoa21_code"])["lsoa21_code"].tolist()


@pytest.fixture
def ctx(data_copy, tmp_path, london) -> Context:
    user = tmp_path / "user"
    user.mkdir()
    return Context(data_copy, user, london)


@pytest.fixture
def previous(processed_dir, build_root, tmp_path):
    """An output folder holding a previous build and a release of it."""
    out = tmp_path / "out"
    seed_outputs(processed_dir, out, build_root / "cache")
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_clearly_and_nothing_changes(case, ctx, previous):
    before = snapshot(previous)
    t0 = time.perf_counter()
    code, _out, err = run_case(case, ctx, previous)
    elapsed = time.perf_counter() - t0
    assert code == 2, err
    for text in case.expect:
        assert text in err, f"{text!r} not in:\n{err}"
    for text in case.absent:
        assert text not in err, f"{text[:80]!r} in:\n{err[:2000]}"
    assert "Traceback" not in err
    assert snapshot(previous) == before
    assert not [p for p in previous.iterdir() if p.name.startswith(".processed")]
    assert elapsed < 60  # the 100 MB file is refused before it is read


def test_missing_markers_and_rows_outside_london_are_counted_per_indicator(ctx, build_root,
                                                                           tmp_path):
    frame = good_user_frame(ctx).astype({"no_internet_pct": object})
    markers = {2: "[c]", 5: "[c]", 9: "[c]", 11: "[x]", 14: "[x]", 20: "", 30: "NA"}
    for row, marker in markers.items():
        frame.loc[row, "no_internet_pct"] = marker
    others = pd.DataFrame({"lsoa21_code": ["W01000001", "W01000002", "W01001958", "W01001959",
                                           "W01000100", "E01011954", "E01011955", "E01011956",
                                           "E01011957"],
                           "no_internet_pct": user_values(9)})
    args = write_user(ctx, pd.concat([frame, others], ignore_index=True))
    out = tmp_path / "out"
    seed_outputs(build_root / PROCESSED, out, build_root / "cache")
    code, text, err = run_cli(["build", "--data-dir", str(ctx.data), "--out-dir", str(out),
                               "--quiet", *args])
    assert code == 0, err
    # the analyst's source declares no sha256: said so, with the line to add (not "refreshed?")
    digest = io.sha256_file(ctx.user / "no_internet.csv")
    assert "data refreshed" not in text
    assert "no sha256 is declared for these sources of your registry file" in text
    assert f'borough_wifi_survey: sha256 = "{digest}"' in text
    meta = json.loads((out / PROCESSED / "manifest.json").read_text())["indicators"]
    mine = meta["no_home_internet_pct"]
    assert mine["missing"] == 7
    assert mine["missing_markers"] == {"NA": 1, "[c]": 3, "[x]": 2, "blank": 1}
    assert mine["rows_outside_london"] == 9 and mine["of_which_welsh"] == 5
    lsoa = pd.read_csv(out / PROCESSED / "lsoa21_indicators.csv")
    assert lsoa["no_home_internet_pct"].isna().sum() == 7 and len(lsoa) == 4994
    # the built-in sources report theirs too (England and Wales files: Welsh rows ignored)
    assert meta["age_65_plus_pct"]["of_which_welsh"] > 1000
    code, text, err = run_cli(["validate", "--data-dir", str(ctx.data), *args])
    assert code == 0, err
    assert ("indicator no_home_internet_pct: 7 missing value(s) (markers in the source: NA 1, "
            "[c] 3, [x] 2, blank 1); 9 row(s) outside London ignored, 5 of them Welsh") in text
    assert "ok (no sha256 declared)" in text and "hash differs" not in text
    assert f'borough_wifi_survey: sha256 = "{digest}"' in text


def test_an_lsoa11_user_file_is_converted_through_the_lookup(ctx):
    codes = london_2011_codes(ctx.data, ctx.london)
    frame = pd.DataFrame({"lsoa11_code": codes, "no_internet_pct": user_values(len(codes))})
    args = write_user(ctx, frame, geography="lsoa11")
    code, text, err = run_cli(["validate", "--data-dir", str(ctx.data), *args])
    assert code == 0, err
    assert "valid:" in text
    assert "indicator no_home_internet_pct:" not in text  # no missing value, no row ignored


def test_a_build_killed_half_way_leaves_outputs_and_releases_intact(data_dir, previous):
    before = snapshot(previous)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mapping", "build", "--data-dir", str(data_dir), "--out-dir",
         str(previous)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    seen = []
    try:
        deadline = time.monotonic() + 120
        for line in proc.stderr:
            seen.append(line.strip())
            if line.startswith("[6/6] write") or time.monotonic() > deadline:
                break
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, seen
    assert any(s.startswith("[6/6]") for s in seen), seen
    assert snapshot(previous) == before
    load_outputs(previous / PROCESSED, verify=True)


def test_a_build_killed_between_its_two_renames_is_recovered(processed_dir, tmp_path):
    out = tmp_path / "out"
    # the state after `processed` was moved aside and before the new build was moved in
    seed_outputs(processed_dir, out)
    (out / PROCESSED).rename(out / f".{PROCESSED}.old")
    with pytest.raises(OutputsError, match="stopped while swapping"):
        load_outputs(out / PROCESSED)
    publish(out / PROCESSED, {"manifest.json": b"{}\n"})
    assert sorted(p.name for p in out.iterdir()) == ["processed", "releases"]
    assert (out / PROCESSED / "manifest.json").read_bytes() == b"{}\n"


def test_a_declared_hash_that_matches_gives_no_note(ctx):
    args = write_user(ctx, good_user_frame(ctx))
    digest = io.sha256_file(ctx.user / "no_internet.csv")
    toml = ctx.user / "mine.toml"
    toml.write_text(toml.read_text().replace('reader = "csv_by_code"',
                                             f'reader = "csv_by_code"\nsha256 = "{digest}"'))
    code, text, err = run_cli(["validate", "--data-dir", str(ctx.data), *args])
    assert code == 0, err
    assert "note:" not in text and "hash differs" not in text


def test_a_source_outside_is_read_only_with_allow_outside_sources(ctx, tmp_path):
    """The option is what lets an analyst read a file from elsewhere; the file is then read
    like any other (here its bad value is reported, so it was read)."""
    frame = good_user_frame(ctx).astype({"no_internet_pct": object})
    frame.loc[0, "no_internet_pct"] = "abc"
    args = write_user(ctx, frame)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ctx.user / "no_internet.csv").rename(elsewhere / "no_internet.csv")
    toml = ctx.user / "mine.toml"
    toml.write_text(toml.read_text().replace('path = "no_internet.csv"',
                                             f'path = "{elsewhere / "no_internet.csv"}"'))
    out = tmp_path / "out"
    code, _, err = run_cli(["build", "--data-dir", str(ctx.data), "--out-dir", str(out),
                            "--quiet", *args])
    assert code == 2 and "--allow-outside-sources" in err and "not a number" not in err
    code, _, err = run_cli(["build", "--data-dir", str(ctx.data), "--out-dir", str(out),
                            "--quiet", "--allow-outside-sources", *args])
    assert code == 2, err
    assert (f"{elsewhere / 'no_internet.csv'}, row 2, column 'no_internet_pct': not a number "
            "(value 'abc')") in err
    assert "outside the registry file's folder" not in err


def test_a_source_in_the_data_directory_is_allowed(ctx):
    args = write_user(ctx, good_user_frame(ctx))
    mine = ctx.data / "mine"
    mine.mkdir()
    (ctx.user / "no_internet.csv").rename(mine / "no_internet.csv")
    toml = ctx.user / "mine.toml"
    toml.write_text(toml.read_text().replace('path = "no_internet.csv"',
                                             f'path = "{mine / "no_internet.csv"}"'))
    code, text, err = run_cli(["validate", "--data-dir", str(ctx.data), *args])
    assert code == 0, err
    assert "valid:" in text
