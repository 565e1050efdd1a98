"""The composite index engine (OECD/JRC method, as COINr does it), as pure functions.

Typical use::

    from mapping.index import build_index, load_spec, monte_carlo

    spec = load_spec("mapping/specs/london_default.toml")
    result = build_index(table, spec)          # IndexResult: every stage side by side
    result.table()                             # index, domain scores, rank, decile, quintile
    monte_carlo(result).ranks                  # median rank, 5-95 % interval, unstable flag

Modules: :mod:`~mapping.index.spec` (the specification file), :mod:`~mapping.index.impute`,
:mod:`~mapping.index.outliers`, :mod:`~mapping.index.normalise`,
:mod:`~mapping.index.aggregate`, :mod:`~mapping.index.engine`,
:mod:`~mapping.index.robustness`, :mod:`~mapping.index.validation`,
:mod:`~mapping.index.rollup`, :mod:`~mapping.index.default` (the build hook).
Nothing here imports Panel, Bokeh or folium.
"""

from mapping.index.default import build_default, read_unit_table
from mapping.index.engine import IndexResult, build_index, reweight, select_frame
from mapping.index.robustness import (
    RobustnessResult,
    cronbach_alpha,
    indicator_correlations,
    leave_one_out,
    monte_carlo,
)
from mapping.index.rollup import rollup
from mapping.index.spec import (
    IndexSpec,
    SpecError,
    load_default_spec,
    load_spec,
    spec_from_dict,
)
from mapping.index.validation import disagreement, spearman_validation

__all__ = [
    "IndexResult",
    "IndexSpec",
    "RobustnessResult",
    "SpecError",
    "build_default",
    "build_index",
    "cronbach_alpha",
    "disagreement",
    "indicator_correlations",
    "leave_one_out",
    "load_default_spec",
    "load_spec",
    "monte_carlo",
    "read_unit_table",
    "reweight",
    "rollup",
    "select_frame",
    "spearman_validation",
    "spec_from_dict",
]
