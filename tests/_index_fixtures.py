"""Small hand-made fixtures shared by the index tests."""

from __future__ import annotations

import copy

import pandas as pd

# Four units, three indicators in two domains.
#   a (higher is worse) 1 2 3 5          domain d1 (weight .4): a
#   b (higher is better) 10 30 20 10     domain d2 (weight .6): b .25, c .75
#   c (higher is worse) 0 0 4 2
TABLE = pd.DataFrame(
    {
        "id": ["u1", "u2", "u3", "u4"],
        "grp": ["g1", "g1", "g2", "g2"],
        "pop": [100, 300, 200, 200],
        "a": [1.0, 2.0, 3.0, 5.0],
        "b": [10.0, 30.0, 20.0, 10.0],
        "c": [0.0, 0.0, 4.0, 2.0],
    }
)

SPEC = {
    "index": {
        "name": "fixture",
        "version": "0",
        "unit_id": "id",
        "group_column": "grp",
        "population_column": "pop",
    },
    "outliers": {"method": "none"},
    "indicator_level": {"normalisation": "minmax", "aggregation": "arithmetic"},
    "domain_level": {"normalisation": "none", "aggregation": "arithmetic"},
    "domains": [
        {
            "code": "d1",
            "name": "Domain one",
            "weight": 0.4,
            "indicators": [{"code": "a", "direction": "higher_is_worse", "weight": 1.0}],
        },
        {
            "code": "d2",
            "name": "Domain two",
            "weight": 0.6,
            "indicators": [
                {"code": "b", "direction": "higher_is_better", "weight": 0.25},
                {"code": "c", "direction": "higher_is_worse", "weight": 0.75},
            ],
        },
    ],
}

# By hand (min-max 0-1 of aligned values):
#   a: (a - 1) / 4                 -> 0, .25, .5, 1
#   b: aligned -b, (-b + 30) / 20  -> 1, 0, .5, 1
#   c: c / 4                       -> 0, 0, 1, .5
#   d1 = a                         -> 0, .25, .5, 1
#   d2 = .25 b + .75 c             -> .25, 0, .875, .625
#   index = .4 d1 + .6 d2          -> .15, .1, .725, .775
#   rank (1 = most at risk)        -> 3, 4, 2, 1
EXPECTED_D1 = [0.0, 0.25, 0.5, 1.0]
EXPECTED_D2 = [0.25, 0.0, 0.875, 0.625]
EXPECTED_INDEX = [0.15, 0.1, 0.725, 0.775]
EXPECTED_RANK = [3, 4, 2, 1]


def spec_dict(**changes) -> dict:
    """A deep copy of SPEC with top-level tables updated (``domains`` replaced)."""
    d = copy.deepcopy(SPEC)
    for key, value in changes.items():
        if isinstance(value, dict) and key in d:
            d[key].update(value)
        else:
            d[key] = value
    return d
