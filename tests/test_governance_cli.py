"""``mapping governance check`` and ``mapping governance report`` through the CLI."""

from __future__ import annotations

from pathlib import Path

from mapping.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_cli_check_passes_on_the_repository(capsys):
    assert main(["governance", "check", "--root", str(ROOT)]) == 0
    assert "no problems" in capsys.readouterr().out


def test_cli_check_fails_and_names_the_file(tmp_path, capsys):
    (tmp_path / "governance").mkdir()
    assert main(["governance", "check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "governance/README.md" in err and "governance/registers/risks.md" in err


def test_cli_report_writes_the_file(tmp_path, capsys):
    out = tmp_path / "pack" / "report.html"
    assert main(["governance", "report", "--root", str(ROOT), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Decision log" in html
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary left


def test_cli_report_default_location(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPPING_OUTPUT_DIR", str(tmp_path / "data"))
    assert main(["governance", "report", "--root", str(ROOT)]) == 0
    assert (tmp_path / "data" / "governance" / "report.html").is_file()
