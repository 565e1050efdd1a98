"""Synthetic unit × indicator tables for tests and benchmarks (never for published outputs).

The table has the columns of ``data/processed/lsoa21_indicators.csv``: ids, names, wards,
boroughs, population, the input indicators of both built indexes and the three validation
references,
drawn from a seeded generator with a shared latent "risk" so that indicators correlate as real
ones do. Units are spread over ``n_groups`` groups; the first 33 groups carry London borough
codes (``E09…``) and the rest English district codes (``E07…``), so England-scale tables have
both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_INDICATORS = (
    "digital_connectivity_iod25",
    "deri_broadband_2011",
    "age_65_plus_pct",
    "age_75_plus_pct",
    "disability_pct",
    "bad_health_pct",
    "no_qualifications_pct",
    "english_proficiency_low_pct",
    "adult_skills_iod25",
    "income_deprivation_iod25",
    "older_income_deprivation_pct",
    "employment_deprivation_iod25",
)
#: Inputs of the evidence-led default (DR-0009) beyond the twelve above; drawn after every
#: other column, so the twelve are the same for a seed as before these were added.
EXTRA_INDICATORS = ("disabled_household_pct", "health_deprivation_iod25")
REFERENCES = ("deri_score_2011", "iuc_least_engaged_share", "dpi_online_pct")


def synthetic_table(
    n_units: int = 4994, n_groups: int = 33, seed: int = 0, missing_share: float = 0.0
) -> pd.DataFrame:
    """A seeded synthetic table shaped like the processed LSOA 2021 indicator table.

    Parameters
    ----------
    n_units
        Number of rows (4,994 = London LSOAs, 33,755 = English LSOAs).
    n_groups
        Number of groups (boroughs / districts); the first 33 are London codes.
    seed
        Random seed; the same seed gives the same table.
    missing_share
        Share of indicator cells set missing at random.
    """
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n_units)
    age = rng.normal(size=n_units)
    groups = np.sort(rng.integers(0, n_groups, size=n_units))
    codes = np.array(
        [f"E09{g + 1:06d}" if g < 33 else f"E07{g:06d}" for g in range(n_groups)], dtype=object
    )
    borough = codes[groups]
    noise = rng.normal(size=(n_units, len(DEFAULT_INDICATORS)))

    def pct(z: np.ndarray, centre: float, spread: float) -> np.ndarray:
        return np.clip(
            100.0 / (1.0 + np.exp(-(np.log(centre / (100 - centre)) + spread * z))), 0.0, 100.0
        )

    data = {
        "digital_connectivity_iod25": 0.6 * risk + 0.8 * noise[:, 0],
        "deri_broadband_2011": np.clip(3.5 + 0.5 * risk + 0.9 * noise[:, 1] ** 2, 0, 10),
        "age_65_plus_pct": pct(0.9 * age + 0.3 * noise[:, 2], 12, 0.5),
        "age_75_plus_pct": pct(0.9 * age + 0.3 * noise[:, 3], 5, 0.6),
        "disability_pct": pct(0.5 * age + 0.5 * risk + 0.4 * noise[:, 4], 15, 0.3),
        "bad_health_pct": pct(0.4 * age + 0.6 * risk + 0.4 * noise[:, 5], 5, 0.3),
        "no_qualifications_pct": pct(0.8 * risk + 0.5 * noise[:, 6], 16, 0.4),
        "english_proficiency_low_pct": pct(0.5 * risk + 0.8 * noise[:, 7], 4, 0.8),
        "adult_skills_iod25": np.clip(0.24 + 0.08 * risk + 0.04 * noise[:, 8], 0.0, 1.0),
        "income_deprivation_iod25": np.clip(0.13 + 0.07 * risk + 0.03 * noise[:, 9], 0.0, 1.0),
        "older_income_deprivation_pct": pct(0.8 * risk + 0.4 * noise[:, 10], 18, 0.5),
        "employment_deprivation_iod25": np.clip(0.09 + 0.05 * risk + 0.02 * noise[:, 11], 0, 1),
    }
    table = pd.DataFrame(
        {
            "lsoa21_code": [f"E01{i:06d}" for i in range(n_units)],
            "lsoa21_name": [f"Synthetic {i:05d}" for i in range(n_units)],
            "ward24_code": [f"E05{i // 8:06d}" for i in range(n_units)],
            "ward24_name": [f"Ward {i // 8}" for i in range(n_units)],
            "borough_code": borough,
            "borough_name": [f"Borough {c}" for c in borough],
            "population": rng.integers(1000, 3000, size=n_units),
        }
    )
    for code in DEFAULT_INDICATORS:
        col = np.asarray(data[code], dtype=float)
        if missing_share > 0:
            col = np.where(rng.random(n_units) < missing_share, np.nan, col)
        table[code] = col
    table["deri_score_2011"] = np.clip(
        3 + 0.5 * risk + 0.3 * age + 0.3 * rng.normal(size=n_units), 0, 10
    )
    table["iuc_least_engaged_share"] = np.clip(
        0.2 + 0.15 * risk + 0.1 * age + 0.1 * rng.normal(size=n_units), 0, 1
    )
    table["disabled_household_pct"] = pct(0.6 * age + 0.5 * risk
                                          + 0.4 * rng.normal(size=n_units), 25, 0.3)
    table["health_deprivation_iod25"] = 0.5 * risk + 0.3 * age + 0.5 * rng.normal(size=n_units)
    table["dpi_online_pct"] = np.clip(
        95 - 1.5 * age - 0.8 * risk + 1.0 * rng.normal(size=n_units), 60, 100
    )
    return table
