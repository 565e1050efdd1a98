"""How robust is the index? Monte Carlo uncertainty and sensitivity, leave-one-out, and the
correlation structure of the indicators.

Monte Carlo (:func:`monte_carlo`)
---------------------------------
Each of ``N`` draws makes four independent choices (the *factors*):

* **weights** — domain weights ``u ~ Dirichlet(c · w)`` around the default domain weights ``w``
  and, within each domain, indicator weights ``v ~ Dirichlet(c · w_dom)`` around the defaults
  (``c`` = ``robustness.concentration``; the mean of each draw is the default, and
  ``sd(u_i) = sqrt(w_i (1 - w_i) / (c + 1))``, e.g. 0.068 for w = 0.25, c = 40);
* **normalisation** of the indicators, uniformly among ``robustness.normalisations``;
* **aggregation** of the domains into the index, uniformly among ``robustness.aggregations``
  (the indicator-level aggregation stays as specified);
* **excluded indicator** (if ``exclude_one_indicator``), uniformly among "none" and each
  indicator: its weight is set to zero and its domain's weights rescaled (a domain left empty
  is dropped and the domain weights rescaled).

The draws are computed as matrices, never unit by unit: for each (normalisation, aggregation)
pair, a block of draws is one matrix product per domain ``S_d = Z_d V_d`` (units × draws), the
domains are combined column-wise, and every column is ranked with one ``argsort`` of the
(draws × units) matrix (rank 1 = most at risk, ties broken by position). Blocks run on a small
thread pool (NumPy releases the GIL in products, sorts and element-wise maths).

Outputs per unit: the nominal rank, the median rank, the 5th and 95th percentiles of the rank
(linear interpolation), and ``unstable = (p95 - p05) / n > robustness.unstable_width``.

**First-order sensitivity** of the rank to each factor ``X`` is the correlation ratio
``S_X = Var(E[Y | X]) / Var(Y)`` with ``Y`` a unit's rank, estimated from the same draws
("given data" estimator): ``E[Y | X]`` is the mean rank over draws in each level of ``X``
(continuous weights are cut into 10 equal-count bins). The summary for a factor is
``Σ_units Var(E[Y|X]) / Σ_units Var(Y)`` — the share of all rank variance explained by that
choice alone. The estimator is biased upwards by about ``(L - 1) / N`` for ``L`` levels.

Internal consistency (:func:`cronbach_alpha`)
---------------------------------------------
``α = k / (k - 1) · (1 - Σ var(z_i) / var(Σ z_i))`` on the direction-aligned, standardised
indicators ``z_i`` of a domain (the standardised alpha); undefined for one-indicator domains.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from mapping.index.engine import IndexResult, index_from_normalised, rank_descending
from mapping.index.normalise import exponential, normalise, normalise_array
from mapping.index.spec import SpecError, spec_from_dict

FACTOR_BINS = 10


@dataclasses.dataclass(frozen=True, eq=False)
class RobustnessResult:
    """Results of :func:`monte_carlo`.

    Attributes
    ----------
    ranks
        Per unit (indexed by unit id): ``nominal_rank``, ``median_rank``, ``rank_p05``,
        ``rank_p95``, ``interval_width`` (p95 - p05) and ``unstable``.
    sensitivity
        Per factor: ``factor``, ``levels`` and ``first_order`` (share of rank variance).
    draws
        Per draw: the choices made (normalisation, aggregation, excluded indicator, domain
        weights) and ``mean_abs_rank_shift`` from the nominal ranks.
    """

    ranks: pd.DataFrame
    sensitivity: pd.DataFrame
    draws: pd.DataFrame


def _dirichlet_around(
    rng: np.random.Generator, weights: np.ndarray, concentration: float, size: int
) -> np.ndarray:
    """Draws with mean ``weights`` (zero weights stay zero); ``concentration = inf`` gives the
    weights themselves in every draw (no weight uncertainty)."""
    out = np.zeros((size, weights.size))
    pos = weights > 0
    if pos.sum() == 1 or np.isinf(concentration):
        out[:, pos] = weights[pos] / weights[pos].sum()
    else:
        out[:, pos] = rng.dirichlet(concentration * weights[pos] / weights[pos].sum(), size=size)
    return out


def _n_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def monte_carlo(
    result: IndexResult,
    draws: int | None = None,
    seed: int | None = None,
    normalisations: Sequence[str] | None = None,
    aggregations: Sequence[str] | None = None,
    exclude_one_indicator: bool | None = None,
    concentration: float | None = None,
    chunk: int = 50,
    threads: int | None = None,
) -> RobustnessResult:
    """Monte Carlo uncertainty and sensitivity analysis of an index (see module docstring).

    Parameters default to ``result.spec.robustness``.

    Parameters
    ----------
    result
        A built index; its outlier-treated data are re-normalised and re-aggregated.
    draws, seed, normalisations, aggregations, exclude_one_indicator, concentration
        Override the specification's robustness settings.
    chunk
        Draws per block (memory ≈ units × chunk × domains × 8 bytes per thread).
    threads
        Worker threads (default: CPUs, at most 4).
    """
    spec = result.spec
    rs = spec.robustness
    n_draws = int(draws if draws is not None else rs.draws)
    norms = list(normalisations or rs.normalisations)
    aggs = list(aggregations or rs.aggregations)
    excl = rs.exclude_one_indicator if exclude_one_indicator is None else exclude_one_indicator
    conc = float(concentration if concentration is not None else rs.concentration)
    if n_draws < 1:
        raise SpecError(spec.source, ["robustness.draws: must be >= 1"])
    if excl and len(spec.indicators) < 2:
        raise SpecError(
            spec.source,
            ["robustness.exclude_one_indicator: needs at least two indicators (set it to false)"],
        )
    # Validate the alternatives as a specification would be.
    check = spec.to_dict()
    check["robustness"].update(normalisations=norms, aggregations=aggs, draws=n_draws)
    spec_from_dict(check, source=spec.source)

    rng = np.random.default_rng(rs.seed if seed is None else seed)
    codes = spec.indicator_codes
    k, n = len(codes), len(result.index)
    dom_codes = spec.domain_codes
    D = len(dom_codes)
    col_of = {c: j for j, c in enumerate(codes)}
    dom_cols = [np.array([col_of[i.code] for i in d.indicators]) for d in spec.domains]
    dom_of_col = np.empty(k, dtype=int)
    for di, cols in enumerate(dom_cols):
        dom_of_col[cols] = di

    # --- sample the factors ---------------------------------------------------------------
    dw = np.array([spec.domain_weights()[d] for d in dom_codes])
    iw = spec.indicator_weights()
    U = _dirichlet_around(rng, dw, conc, n_draws)
    V = np.zeros((n_draws, k))
    for cols in dom_cols:
        V[:, cols] = _dirichlet_around(rng, np.array([iw[codes[j]] for j in cols]), conc, n_draws)
    norm_choice = rng.integers(0, len(norms), size=n_draws)
    agg_choice = rng.integers(0, len(aggs), size=n_draws)
    excluded = rng.integers(-1, k, size=n_draws) if excl else np.full(n_draws, -1)
    for j in range(k):
        hit = excluded == j
        if not hit.any():
            continue
        V[hit, j] = 0.0
        cols = dom_cols[dom_of_col[j]]
        tot = V[np.ix_(hit, cols)].sum(axis=1)
        empty = tot == 0
        V[np.ix_(hit, cols)] = np.where(
            empty[:, None], 0.0, V[np.ix_(hit, cols)] / np.where(empty, 1.0, tot)[:, None]
        )
        if empty.any():
            rows = np.flatnonzero(hit)[empty]
            U[rows, dom_of_col[j]] = 0.0
            U[rows] /= U[rows].sum(axis=1, keepdims=True)

    # --- pre-normalise once per method (stored transposed: indicators × units) ------------
    signs = {i.code: i.sign for i in spec.indicators}
    refs = {i.code: i.reference for i in spec.indicators}
    ilv, dlv = spec.indicator_level, spec.domain_level
    ZT: dict[str, np.ndarray] = {}
    for m in set(norms):
        z = normalise(result.treated[codes], ilv, signs, refs, method=m).to_numpy()
        if ilv.aggregation == "geometric":
            z = np.log(z + ilv.geometric_offset)
        elif ilv.aggregation == "imd":
            z = exponential(z)
        ZT[m] = np.ascontiguousarray(z.T)

    nominal = result.rank.to_numpy().astype(np.int32)
    descending = np.arange(n, 0, -1, dtype=np.int32)
    # ranks fit 16 bits up to 65,535 units (all English LSOAs): half the memory traffic, and
    # NumPy sorts 16-bit integers with a radix sort
    ranks = np.empty((n_draws, n), dtype=np.uint16 if n <= np.iinfo(np.uint16).max else np.int32)
    shift = np.empty(n_draws)

    def run_block(idx: np.ndarray) -> None:
        m = norms[norm_choice[idx[0]]]
        agg = aggs[agg_choice[idx[0]]]
        zt = ZT[m]
        index = np.zeros((idx.size, n))
        for di, cols in enumerate(dom_cols):
            vd = V[np.ix_(idx, cols)]  # draws × k_d
            dead = vd.sum(axis=1) == 0  # domain dropped in these draws (its weight u is 0)
            if dead.any():
                vd[dead, 0] = 1.0
            # einsum, not BLAS: with 2-4 inner terms OpenBLAS was ~10x slower here (2 cores)
            s = np.einsum("dk,kn->dn", vd, zt[cols])  # draws × units
            if ilv.aggregation == "geometric":
                np.exp(s, out=s)
                s -= ilv.geometric_offset
            if dlv.normalisation != "none":
                s = np.ascontiguousarray(normalise_array(s.T, dlv).T)
            ud = U[idx, di][:, None]
            if agg == "arithmetic":
                s *= ud
            elif agg == "geometric":
                s += dlv.geometric_offset
                np.log(s, out=s)
                s *= ud
            else:
                s = exponential(s.T).T * ud
            index += s
        if agg == "geometric":
            np.exp(index, out=index)
        order = np.argsort(index, axis=1)
        block = np.empty((idx.size, n), dtype=np.int32)
        block[np.arange(idx.size)[:, None], order] = descending
        shift[idx] = np.abs(block - nominal).mean(axis=1)
        ranks[idx] = block

    blocks: list[np.ndarray] = []
    combo = norm_choice * len(aggs) + agg_choice
    for c in np.unique(combo):
        idx = np.flatnonzero(combo == c)
        blocks.extend(idx[i : i + chunk] for i in range(0, idx.size, chunk))
    workers = threads or _n_threads()
    _map(run_block, blocks, workers)

    # --- summaries --------------------------------------------------------------------------
    factors: dict[str, np.ndarray] = {
        "normalisation": norm_choice,
        "aggregation": agg_choice,
    }
    if excl:
        factors["excluded_indicator"] = excluded + 1
    for di, d in enumerate(dom_codes):
        if D > 1:
            factors[f"weight:{d}"] = _bins(U[:, di], FACTOR_BINS)
    q, sens = _summarise(ranks, factors, workers)
    width = q[:, 2] - q[:, 0]
    ranks_frame = pd.DataFrame(
        {
            "nominal_rank": nominal.astype(np.int64),
            "median_rank": q[:, 1],
            "rank_p05": q[:, 0],
            "rank_p95": q[:, 2],
            "interval_width": width,
            "unstable": width / n > rs.unstable_width,
        },
        index=result.index.index.copy(),
    )

    draws_frame = pd.DataFrame(
        {
            "normalisation": np.array(norms, dtype=object)[norm_choice],
            "aggregation": np.array(aggs, dtype=object)[agg_choice],
            "excluded_indicator": np.array(["none", *codes], dtype=object)[excluded + 1],
            **{f"weight_{d}": U[:, di] for di, d in enumerate(dom_codes)},
            "mean_abs_rank_shift": shift,
        }
    )
    draws_frame.index.name = "draw"
    return RobustnessResult(ranks=ranks_frame, sensitivity=sens, draws=draws_frame)


def _bins(values: np.ndarray, k: int) -> np.ndarray:
    """Equal-count bin labels 0..k-1 of ``values`` (by rank, so ties cannot empty a bin)."""
    order = np.argsort(values, kind="stable")
    labels = np.empty(values.size, dtype=int)
    labels[order] = np.arange(values.size) * k // values.size
    return labels


def _map(func, items: list, workers: int) -> None:
    """Run ``func`` on every item, on a thread pool when there is more than one worker."""
    if workers > 1 and len(items) > 1:
        with ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(func, items):
                pass
    else:
        for item in items:
            func(item)


QUANTILES = (0.05, 0.5, 0.95)
SPAN = 2048


def _sorted_quantiles(srt: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of each row of an already sorted array, linear interpolation between order
    statistics at position ``q (d - 1)`` (NumPy's default ``percentile`` method)."""
    d = srt.shape[1]
    out = np.empty((srt.shape[0], len(qs)))
    for j, q in enumerate(qs):
        pos = q * (d - 1)
        lo = int(np.floor(pos))
        hi = min(lo + 1, d - 1)
        frac = pos - lo
        a = srt[:, lo].astype(float)
        out[:, j] = a + frac * (srt[:, hi].astype(float) - a)
    return out


def _summarise(
    ranks: np.ndarray, factors: dict[str, np.ndarray], workers: int
) -> tuple[np.ndarray, pd.DataFrame]:
    """Per-unit rank quantiles and the first-order indices, in one pass over unit spans.

    ``ranks`` is draws × units. For each span of units the ranks are transposed (units × draws),
    sorted along the draws (radix sort for 16-bit ranks) for the quantiles, and multiplied by
    the one-hot matrix of every factor's levels for the conditional means.

    First-order index of factor X with levels l (share p_l of draws), per unit:
    ``Var(E[Y|X]) = Σ_l p_l (mean_l(Y) - mean(Y))²``; the summary is the sum over units of that
    divided by the sum over units of ``Var(Y)``.
    """
    n_draws, n = ranks.shape
    names = list(factors)
    blocks = []
    for name in names:
        _, inv = np.unique(factors[name], return_inverse=True)
        h = np.zeros((n_draws, int(inv.max()) + 1))
        h[np.arange(n_draws), inv] = 1.0
        blocks.append(h)
    H = np.hstack(blocks)  # draws × all levels
    counts = H.sum(axis=0)
    share = counts / n_draws
    bounds = np.cumsum([0] + [b.shape[1] for b in blocks])
    # fixed spans (not tied to the thread count), summed in order: the same figures every run
    spans = [(a, min(a + SPAN, n)) for a in range(0, n, SPAN)]
    parts = np.zeros((len(spans), len(names) + 1))
    quant = np.empty((n, len(QUANTILES)))

    def part(k: int) -> None:
        a, b = spans[k]
        rt = np.ascontiguousarray(ranks[:, a:b].T)  # units × draws
        quant[a:b] = _sorted_quantiles(np.sort(rt, axis=1, kind="stable"), QUANTILES)
        y = rt.astype(float)
        mean = y.mean(axis=1)
        var = np.einsum("ud,ud->u", y, y) / n_draws - mean * mean
        dev = (y @ H) / counts - mean[:, None]  # units × levels
        contrib = (dev * dev * share).sum(axis=0)
        parts[k, 0] = var.sum()
        for j in range(len(names)):
            parts[k, j + 1] = contrib[bounds[j] : bounds[j + 1]].sum()

    _map(part, list(range(len(spans))), workers)
    totals = parts.sum(axis=0)
    rows = [
        {
            "factor": name,
            "levels": int(bounds[j + 1] - bounds[j]),
            "first_order": float(totals[j + 1] / totals[0]) if totals[0] > 0 else float("nan"),
        }
        for j, name in enumerate(names)
    ]
    return quant, pd.DataFrame(rows)


def leave_one_out(result: IndexResult) -> pd.DataFrame:
    """Rebuild the index without each indicator in turn and compare with the nominal ranks.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``spearman`` (rank correlation of the index without it with the
        nominal index), ``mean_abs_rank_shift``, ``max_abs_rank_shift`` and
        ``decile_changed_share`` (share of units whose decile changes).
    """
    spec = result.spec
    nominal = result.rank.to_numpy()
    n = nominal.size
    rows = []
    for code in spec.indicator_codes:
        sub = spec.without_indicator(code)
        _, _, idx = index_from_normalised(sub, result.normalised[sub.indicator_codes])
        r = rank_descending(idx).to_numpy()
        d = np.abs(r - nominal)
        dec_new = (r - 1) * 10 // n
        dec_old = (nominal - 1) * 10 // n
        rows.append(
            {
                "indicator": code,
                "spearman": float(np.corrcoef(r, nominal)[0, 1]),
                "mean_abs_rank_shift": float(d.mean()),
                "max_abs_rank_shift": int(d.max()),
                "decile_changed_share": float(np.mean(dec_new != dec_old)),
            }
        )
    return pd.DataFrame(rows)


def indicator_correlations(result: IndexResult, method: str = "spearman") -> pd.DataFrame:
    """Correlation matrix (``pearson`` or ``spearman``) of the aligned, normalised indicators."""
    return result.normalised.corr(method=method)


def cronbach_alpha(result: IndexResult) -> pd.DataFrame:
    """Standardised Cronbach's alpha of each domain (see module docstring).

    Returns
    -------
    pandas.DataFrame
        ``domain``, ``n_indicators``, ``alpha`` (NaN for one indicator) and
        ``mean_inter_item_correlation``.
    """
    rows = []
    signs = {i.code: i.sign for i in result.spec.indicators}
    for d in result.spec.domains:
        cols = [i.code for i in d.indicators]
        a = result.treated[cols].to_numpy(dtype=float) * np.array([signs[c] for c in cols])
        k = len(cols)
        if k < 2:
            rows.append(
                {
                    "domain": d.code,
                    "n_indicators": k,
                    "alpha": np.nan,
                    "mean_inter_item_correlation": np.nan,
                }
            )
            continue
        z = (a - a.mean(axis=0)) / a.std(axis=0, ddof=1)
        alpha = k / (k - 1) * (1 - z.var(axis=0, ddof=1).sum() / z.sum(axis=1).var(ddof=1))
        corr = np.corrcoef(z, rowvar=False)
        mean_r = (corr.sum() - k) / (k * (k - 1))
        rows.append(
            {
                "domain": d.code,
                "n_indicators": k,
                "alpha": float(alpha),
                "mean_inter_item_correlation": float(mean_r),
            }
        )
    return pd.DataFrame(rows)
