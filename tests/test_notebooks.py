"""Every analyst notebook executed on the real data package (jupytext → nbclient).

Parameters are injected after each notebook's ``parameters`` cell (as papermill does) to point
it at the session build, write into a temporary folder and keep runs short (few Monte Carlo
draws, two maps). A notebook fails the suite on any error, and on any warning it prints.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from mapping.outputs import load_outputs
from mapping.pipeline.release import verify_release

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

#: Per notebook, the parameters that keep the run short; output/processed folders are added.
PARAMETERS = {
    "01-data-audit": {"map_indicators": ["age_65_plus_pct", "ofcom_gigabit_pct"]},
    "02-build-index": {
        "variant_name": "age-heavy",
        "domain_weights": {"age": 0.4, "health": 0.2, "skills": 0.2, "deprivation": 0.2},
        "normalisation": "rank",
        "release_version": "1.0.0",
        "release_notes": "Test release from notebook 02.",
    },
    "03-robustness": {"draws": 60},
    "04-validation": {},
    "05-borough-profiles": {"borough": "E09000005"},
    "06-add-an-indicator": {},
}


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.py"))


def inject(nb: nbformat.NotebookNode, params: dict) -> nbformat.NotebookNode:
    """Insert a cell of ``params`` after the cell tagged ``parameters``."""
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    names = set()
    for line in nb.cells[tagged[0]].source.splitlines():
        if "=" in line and not line.startswith((" ", "#")):
            names.add(line.split("=", 1)[0].strip())
    unknown = set(params) - names
    assert not unknown, f"parameters not declared in the notebook: {sorted(unknown)}"
    source = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    nb.cells.insert(tagged[0] + 1,
                    nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    return nb


def execute(path: Path, params: dict, cwd: Path) -> nbformat.NotebookNode:
    nb = inject(jupytext.read(path), params)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def stderr_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if o.get("name") == "stderr")


def test_every_notebook_has_parameters():
    assert [p.stem for p in notebook_paths()] == sorted(PARAMETERS)
    for path in notebook_paths():
        text = path.read_text(encoding="utf-8")
        assert "format_name: percent" in text, path
        assert '# %% tags=["parameters"]' in text, path
        assert "output_dir = None" in text, path


@pytest.fixture(scope="module")
def notebook_env(monkeypatch_module):
    monkeypatch_module.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch_module.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_notebook_runs(name, notebook_env, build_root, processed_dir, tmp_path):
    out = tmp_path / "out"
    params = {"output_dir": str(out), **PARAMETERS[name]}
    if name == "06-add-an-indicator":
        params["cache_from"] = str(build_root)
    else:
        params["processed_dir"] = str(processed_dir)
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    nb = execute(NOTEBOOKS / f"{name}.py", params, cwd=tmp_path)
    assert "warning" not in stderr_text(nb).lower(), stderr_text(nb)
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before, "wrote into notebooks/"
    check_outputs(name, out)


def check_outputs(name: str, out: Path) -> None:
    """What each notebook must leave under its output folder (and nowhere else)."""
    if name == "02-build-index":
        release = out / "releases" / "v1.0.0"
        assert verify_release(release) == []
        assert (release / "extras" / "age-heavy" / "spec.json").is_file()
        assert (out / "variants" / "age-heavy" / "borough_index.csv").is_file()
        load_outputs(release / "processed")
    elif name == "05-borough-profiles":
        folder = out / "profiles" / "E09000005-brent"
        assert (folder / "brent-index_score.html").stat().st_size > 10_000
        assert (folder / "brent-top_areas.csv").is_file()
    elif name == "06-add-an-indicator":
        work = out / "work" / "06-add-an-indicator"
        manifest = load_outputs(work / "out" / "processed").manifest
        assert "households_disabled_pct" in manifest["indicators"]
        assert verify_release(work / "releases" / "v0.1.0") == []
    elif name in ("01-data-audit", "03-robustness", "04-validation"):
        assert not out.exists() or not any(out.iterdir()), "this notebook should write nothing"

