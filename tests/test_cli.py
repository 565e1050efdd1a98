"""The command line: help on every verb, clear errors and exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mapping.cli import VERB_MODULES, main, make_parser


def verbs() -> list[str]:
    parser = make_parser()
    sub = next(a for a in parser._actions if a.dest == "verb")
    return sorted(sub.choices)


def test_every_verb_module_is_registered():
    assert len(verbs()) >= len(VERB_MODULES)
    assert {"build", "validate", "serve"} <= set(verbs())


@pytest.mark.parametrize("verb", verbs())
def test_help_on_every_verb(verb, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([verb, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: mapping {verb}" in out and len(out) > 100


def test_python_dash_m_mapping_help():
    done = subprocess.run([sys.executable, "-m", "mapping", "--help"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and "build" in done.stdout and "validate" in done.stdout


def test_missing_data_dir_is_a_clear_error(tmp_path, capsys):
    assert main(["validate", "--data-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere does not exist" in err and "MAPPING_DATA_DIR" in err
    assert "Traceback" not in err


def test_build_with_a_broken_indicator_file_exits_2_and_writes_nothing(tmp_path, data_dir,
                                                                      capsys):
    extra = tmp_path / "mine.toml"
    extra.write_text('[[indicator]]\ncode = "Bad Code"\n', encoding="utf-8")
    code = main(["build", "--data-dir", str(data_dir), "--out-dir", str(tmp_path / "out"),
                 "--indicators", str(extra), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "mine.toml" in err and "missing key" in err and "snake_case" in err
    assert not (tmp_path / "out").exists()


def test_serve_without_a_build_says_what_to_do(tmp_path, capsys):
    assert main(["serve", "--out-dir", str(tmp_path)]) == 2
    assert "run `mapping build` first" in capsys.readouterr().err
