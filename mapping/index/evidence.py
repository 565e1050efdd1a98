"""Choosing an index from evidence, judged out of sample (leave one borough out).

A candidate index is a grouping of indicators into domains and a way of weighting them: fixed
(equal, or the weights of a spec file), or fitted to observed behaviour. Fitted weights are the
non-negative least-squares weights of the normalised indicators (or domain scores) against a
*target*: a weighted mean of the criteria's percentile ranks, each turned so that higher means
less online. Every candidate is scored **out of sample**: for each borough in turn the weights
are fitted on the other boroughs only and the held-out borough's areas are scored with them;
Spearman's ρ of the pooled held-out scores with each criterion is the figure reported. A fit
never sees the borough it scores.

The candidates are data (``mapping/specs/candidates.toml``); the methods (imputation, outlier
treatment, min-max normalisation, arithmetic means) come from a base spec, so that a fitted
candidate is exactly an index the engine builds: with arithmetic aggregation at both levels and
no domain-level normalisation, the index is the normalised indicators times the effective
weights, which is how held-out areas are scored here.

Nothing here reads files of the data package; it takes the build's LSOA table. The comparison
and the choice it supported are recorded in DR-0009
(``governance/decisions/0009-evidence-led-default-index.md``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mapping.errors import DataValidationError, Problem
from mapping.index.engine import build_index
from mapping.index.spec import SPECS_DIR, IndexSpec, SpecError, load_spec, spec_from_dict

CANDIDATES_FILE = SPECS_DIR / "candidates.toml"
FITS = ("none", "domains", "indicators", "unconstrained")


@dataclass(frozen=True)
class Domain:
    code: str
    name: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    """One way of building the index, to be compared with the others."""

    name: str
    label: str
    fit: str  # none | domains | indicators | unconstrained
    domains: tuple[Domain, ...]
    target: Mapping[str, float] = field(default_factory=dict)  # criterion -> weight
    spec: str | None = None  # fit = none: weights from this spec file (else equal)

    @property
    def indicators(self) -> list[str]:
        return [i for d in self.domains for i in d.indicators]

    @property
    def explainable(self) -> bool:
        """Non-negative weights with every indicator's registered direction (unconstrained
        fits may give an indicator a negative weight, i.e. reverse its direction)."""
        return self.fit != "unconstrained"


@dataclass(frozen=True)
class Candidates:
    """The comparison: the criteria, the base spec's methods, and the candidates."""

    criteria: tuple[str, ...]  # the first is primary, the rest guard against its quirks
    group_column: str
    weight_decimals: int
    base_spec: IndexSpec
    candidates: tuple[Candidate, ...]
    source: str
    #: the candidate the default index was chosen as (DR-0009), whose out-of-sample figures
    #: every build reports
    adopted: str | None = None

    def candidate(self, name: str) -> Candidate:
        for c in self.candidates:
            if c.name == name:
                return c
        raise KeyError(name)


def load_candidates(path: str | Path = CANDIDATES_FILE) -> Candidates:
    """Read and check a candidates file (every problem reported at once, naming the key)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataValidationError.single(path, f"cannot read candidates file: {exc}") from None
    problems: list[Problem] = []
    settings = data.get("settings", {})
    criteria = tuple(settings.get("criteria", ()))
    if not criteria:
        problems.append(Problem(str(path), "settings.criteria must name at least one criterion",
                                column="settings.criteria"))
    base_name = settings.get("base_spec", "")
    base = None
    try:
        base = load_spec(path.parent / base_name)
    except (SpecError, DataValidationError, OSError) as exc:
        problems.append(Problem(str(path), f"base_spec cannot be loaded: {exc}",
                                column="settings.base_spec", value=str(base_name)))
    if base is not None and (base.indicator_level.aggregation != "arithmetic"
                             or base.domain_level.aggregation != "arithmetic"
                             or base.domain_level.normalisation != "none"):
        problems.append(Problem(str(path), "base_spec must use arithmetic means at both levels "
                                "and no domain-level normalisation", column="settings.base_spec"))
    cands, seen = [], set()
    for n, entry in enumerate(data.get("candidate", []), start=1):
        where = f"candidate {n} ({entry.get('name', '?')})"
        name = entry.get("name", "")
        if not name or name in seen:
            problems.append(Problem(str(path), f"{where}: missing or duplicated name",
                                    column="name", value=str(name)))
        seen.add(name)
        fit = entry.get("fit", "")
        if fit not in FITS:
            problems.append(Problem(str(path), f"{where}: fit must be one of {', '.join(FITS)}",
                                    column="fit", value=str(fit)))
        target = {str(k): float(v) for k, v in entry.get("target", {}).items()}
        if fit != "none" and (not target or any(k not in criteria for k in target)
                              or any(v < 0 for v in target.values())
                              or sum(target.values()) <= 0):
            problems.append(Problem(str(path), f"{where}: target must give non-negative "
                                    "weights to the criteria", column="target", value=str(target)))
        domains = tuple(Domain(str(d["code"]), str(d.get("name", d["code"])),
                               tuple(d["indicators"])) for d in entry.get("domains", []))
        spec_file = entry.get("spec")
        if spec_file and not domains:
            try:
                s = load_spec(path.parent / spec_file)
                domains = tuple(Domain(d.code, d.name, tuple(i.code for i in d.indicators))
                                for d in s.domains)
            except (SpecError, DataValidationError, OSError) as exc:
                problems.append(Problem(str(path), f"{where}: spec cannot be loaded: {exc}",
                                        column="spec", value=str(spec_file)))
        if not domains:
            problems.append(Problem(str(path), f"{where}: no domains", column="domains"))
        cands.append(Candidate(name, str(entry.get("label", name)), fit, domains, target,
                               str(path.parent / spec_file) if spec_file else None))
    if problems:
        raise DataValidationError(problems)
    adopted = settings.get("adopted")
    if adopted is not None and adopted not in seen:
        raise DataValidationError.single(path, "settings.adopted names no candidate",
                                         column="settings.adopted", value=str(adopted))
    return Candidates(criteria, str(settings.get("group_column", "borough_code")),
                      int(settings.get("weight_decimals", 2)), base, tuple(cands), str(path),
                      adopted)


# ---------------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------------


def risk_ranks(values: pd.Series, direction: str) -> pd.Series:
    """Percentile ranks (0–1, average ties) turned so that higher means more at risk."""
    sign = -1.0 if direction == "higher_is_better" else 1.0
    return (sign * values.astype(float)).rank(pct=True, method="average")


def round_weights(weights: np.ndarray, decimals: int) -> np.ndarray:
    """Weights that sum to one, rounded to ``decimals`` by largest remainder (so the rounded
    weights still sum to exactly one). All-zero input stays all zero."""
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    if w.sum() <= 0:
        return np.zeros_like(w)
    unit = 10.0 ** decimals
    scaled = w / w.sum() * unit
    floor = np.floor(scaled)
    short = int(round(unit - floor.sum()))
    order = np.argsort(-(scaled - floor), kind="stable")
    floor[order[:short]] += 1
    return floor / unit


def fit_weights(x: np.ndarray, y: np.ndarray, *, nonnegative: bool = True,
                decimals: int | None = 2) -> np.ndarray:
    """Weights of the columns of ``x`` that best predict ``y`` by least squares with a free
    intercept (both centred), non-negative unless asked otherwise, scaled to sum to one
    (rounded to ``decimals`` when non-negative)."""
    ok = ~(np.isnan(x).any(axis=1) | np.isnan(y))
    xc = x[ok] - x[ok].mean(axis=0)
    yc = y[ok] - y[ok].mean()
    if nonnegative:
        from scipy import optimize  # noqa: PLC0415 (1 s to import; the app never fits)

        w, _ = optimize.nnls(xc, yc)
        if decimals is not None:
            return round_weights(w, decimals)
        return w / w.sum() if w.sum() > 0 else w
    w = np.linalg.lstsq(xc, yc, rcond=None)[0]
    return w / np.abs(w).sum()


def leave_one_group_out(x: np.ndarray, y: np.ndarray, groups: np.ndarray,
                        fit: Callable[[np.ndarray, np.ndarray], np.ndarray]
                        ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Out-of-sample scores: for each group, ``fit`` sees only the other groups' rows; the
    group's rows are scored with the weights it returns. Returns the scores and the weights
    fitted for each held-out group."""
    scores = np.full(len(y), np.nan)
    fitted: dict[str, np.ndarray] = {}
    for g in pd.unique(groups):
        held = groups == g
        w = fit(x[~held], y[~held])
        fitted[str(g)] = w
        scores[held] = x[held] @ w
    return scores, fitted


@dataclass(frozen=True)
class Evaluation:
    """One candidate's figures."""

    candidate: Candidate
    weights: pd.Series  # effective indicator weights fitted on every borough
    out_of_sample: pd.Series  # held-out scores per unit
    in_sample: pd.Series  # scores with the all-borough weights
    figures: dict[str, Any]


class Comparison:
    """Every candidate scored against every criterion, out of sample."""

    def __init__(self, table: pd.DataFrame, candidates: Candidates,
                 directions: Mapping[str, str]):
        self.candidates = candidates
        self.directions = dict(directions)
        base = candidates.base_spec
        allind = list(dict.fromkeys(i for c in candidates.candidates for i in c.indicators))
        missing = [c for c in [*allind, *candidates.criteria, candidates.group_column]
                   if c not in table.columns]
        if missing:
            raise DataValidationError([Problem(candidates.source, "column not in the table",
                                               column=c) for c in missing])
        d = base.to_dict()
        d["index"]["normalise_weights"] = True
        d["domains"] = [{"code": "all", "name": "all", "weight": 1.0, "indicators": [
            {"code": c, "direction": directions.get(c, "higher_is_worse"), "weight": 1.0}
            for c in allind]}]
        wide = spec_from_dict(d, source=candidates.source)
        result = build_index(table, wide, name=candidates.source)
        self.normalised = result.normalised  # indexed by unit id, higher = more at risk
        ids = self.normalised.index
        t = table.set_index(base.unit_id)
        self.groups = t[candidates.group_column].reindex(ids).astype(str).to_numpy()
        self.criteria = {c: t[c].reindex(ids).astype(float) for c in candidates.criteria}
        self.risk = {c: risk_ranks(v, directions.get(c, "higher_is_worse"))
                     for c, v in self.criteria.items()}

    def target(self, cand: Candidate) -> np.ndarray:
        total = sum(cand.target.values())
        y = sum(self.risk[c].to_numpy() * (w / total) for c, w in cand.target.items())
        return np.asarray(y, dtype=float)

    def design(self, cand: Candidate) -> np.ndarray:
        """Columns the fit weights: indicators, or domain scores (means of their indicators)."""
        if cand.fit == "domains":
            return np.column_stack([self.normalised[list(d.indicators)].mean(axis=1)
                                    for d in cand.domains])
        return self.normalised[cand.indicators].to_numpy()

    def _effective(self, cand: Candidate, w: np.ndarray) -> np.ndarray:
        """Per-indicator weights from weights of the design's columns."""
        if cand.fit != "domains":
            return w
        return np.concatenate([np.full(len(d.indicators), wd / len(d.indicators))
                               for d, wd in zip(cand.domains, w, strict=True)])

    def _fixed(self, cand: Candidate) -> np.ndarray:
        """Per-indicator weights of a fixed candidate: its spec's, or equal at both levels."""
        if cand.spec:
            ew = load_spec(cand.spec).effective_weights()
            return np.array([ew[i] for i in cand.indicators])
        return np.concatenate([np.full(len(d.indicators), 1.0 / len(d.indicators)
                                       / len(cand.domains)) for d in cand.domains])

    def fitter(self, cand: Candidate) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Weights of the design's columns from training rows (``x``, ``y``) only."""
        if cand.fit == "none":
            fixed = self._fixed(cand)
            return lambda x, y: fixed
        if cand.fit == "unconstrained":
            return lambda x, y: fit_weights(x, y, nonnegative=False)
        dec = self.candidates.weight_decimals
        return lambda x, y: fit_weights(x, y, decimals=dec)

    def evaluate(self, cand: Candidate) -> Evaluation:
        """Fit and score ``cand`` out of sample (leave one borough out) and in sample."""
        y = self.target(cand) if cand.fit != "none" else np.zeros(len(self.groups))
        design = self.design(cand)
        fit = self.fitter(cand)
        held, _ = leave_one_group_out(design, y, self.groups, fit)
        w_all = fit(design, y)
        ids = self.normalised.index
        oos = pd.Series(held, index=ids, name=cand.name)
        ins = pd.Series(design @ w_all, index=ids, name=cand.name)
        fig: dict[str, Any] = {"candidate": cand.name, "label": cand.label, "fit": cand.fit,
                               "explainable": cand.explainable,
                               "target": "; ".join(f"{k} {v:g}" for k, v in cand.target.items())}
        for c in self.candidates.criteria:
            fig[f"{c}_rho_out_of_sample"] = _rho(oos, self.criteria[c])
            fig[f"{c}_rho_in_sample"] = _rho(ins, self.criteria[c])
            per = [_rho(oos[self.groups == g], self.criteria[c][self.groups == g])
                   for g in pd.unique(self.groups)]
            fig[f"{c}_rho_borough_median"] = float(np.nanmedian(per))
        weights = pd.Series(self._effective(cand, w_all), index=cand.indicators, name=cand.name)
        fig["weights"] = "; ".join(f"{k} {v:.3g}" for k, v in weights.items() if abs(v) > 0)
        return Evaluation(cand, weights, oos, ins, fig)

    def choose(self, names: Sequence[str], rows: np.ndarray, target_rho: float) -> str:
        """The DR-0009 rule on the rows ``rows`` only: among explainable candidates whose
        leave-one-group-out ρ with the primary criterion reaches ``target_rho`` (≤), the one
        with the best ρ with the guard criterion; if none reaches it, the best on the primary.
        """
        primary, guard = self.candidates.criteria[0], self.candidates.criteria[-1]
        sign = {c: (-1.0 if self.directions.get(c) == "higher_is_better" else 1.0)
                for c in (primary, guard)}
        scored = []
        for name in names:
            cand = self.candidates.candidate(name)
            if not cand.explainable:
                continue
            y = self.target(cand) if cand.fit != "none" else np.zeros(len(self.groups))
            held, _ = leave_one_group_out(self.design(cand)[rows], y[rows], self.groups[rows],
                                          self.fitter(cand))
            oos = pd.Series(held)
            p = _rho(oos, self.criteria[primary][rows].reset_index(drop=True))
            g = _rho(oos, self.criteria[guard][rows].reset_index(drop=True))
            scored.append((name, sign[primary] * p, sign[guard] * g))
        # agreements: rho turned so that higher means closer agreement with a risk index
        needed = sign[primary] * target_rho
        reaching = [s for s in scored if s[1] >= needed]
        pool = reaching or scored
        key = (lambda s: s[2]) if reaching else (lambda s: s[1])
        return max(pool, key=key)[0]

    def nested(self, names: Sequence[str], target_rho: float = -0.60
               ) -> tuple[dict[str, Any], pd.Series]:
        """The whole choice judged out of sample: for each held-out group, the rule of
        :meth:`choose` picks a candidate using the other groups only (with its own inner
        leave-one-group-out), that candidate is fitted on the other groups and scores the
        held-out one. Returns the pooled figures and which candidate each group got."""
        held = np.full(len(self.groups), np.nan)
        picked = {}
        for g in pd.unique(self.groups):
            out = self.groups == g
            name = self.choose(names, ~out, target_rho)
            picked[str(g)] = name
            cand = self.candidates.candidate(name)
            y = self.target(cand) if cand.fit != "none" else np.zeros(len(self.groups))
            design = self.design(cand)
            w = self.fitter(cand)(design[~out], y[~out])
            held[out] = design[out] @ w
        oos = pd.Series(held, index=self.normalised.index, name="nested")
        fig: dict[str, Any] = {"candidate": "nested choice (rule applied inside each fold)"}
        for c in self.candidates.criteria:
            fig[f"{c}_rho_out_of_sample"] = _rho(oos, self.criteria[c])
        return fig, pd.Series(picked, name="chosen")

    def table(self) -> pd.DataFrame:
        """One row per candidate with its out-of-sample and in-sample ρ per criterion."""
        return pd.DataFrame([self.evaluate(c).figures for c in self.candidates.candidates])


def _rho(x: pd.Series, y: pd.Series) -> float:
    ok = x.notna().to_numpy() & y.notna().to_numpy()
    if ok.sum() < 3 or np.ptp(x.to_numpy()[ok]) == 0 or np.ptp(y.to_numpy()[ok]) == 0:
        return float("nan")
    return float(stats.spearmanr(x.to_numpy()[ok], y.to_numpy()[ok]).statistic)


def spec_for(ev: Evaluation, base: IndexSpec, directions: Mapping[str, str], *, name: str,
             version: str, description: str) -> dict[str, Any]:
    """The spec (as data, in the file layout) of a candidate with its all-borough weights:
    indicators with zero weight are left out; each indicator's weight is its effective weight
    and a domain's weight the sum of its indicators' (``normalise_weights = true``, so the
    within-domain weights are rescaled by the engine and the effective weights are unchanged)."""
    d = base.to_dict()
    d["index"].update({"name": name, "version": version, "description": description,
                       "normalise_weights": True})
    domains = []
    for dom in ev.candidate.domains:
        ws = {i: float(ev.weights[i]) for i in dom.indicators if ev.weights[i] > 0}
        if not ws:
            continue
        domains.append({"code": dom.code, "name": dom.name,
                        "weight": round(sum(ws.values()), 10),
                        "indicators": [{"code": i,
                                        "direction": directions.get(i, "higher_is_worse"),
                                        "weight": w} for i, w in ws.items()]})
    d["domains"] = domains
    return d


def top_decile_changes(new: pd.Series, old: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Per group: LSOAs in London's most at-risk 10 % under ``new`` but not ``old`` (in), the
    reverse (out), and those in both."""
    k = int(round(len(new) * 0.1))
    top_new = set(new.sort_values(ascending=False).index[:k])
    top_old = set(old.sort_values(ascending=False).index[:k])
    frame = pd.DataFrame({"group": groups.reindex(new.index)})
    frame["moved_in"] = [i in top_new and i not in top_old for i in new.index]
    frame["moved_out"] = [i in top_old and i not in top_new for i in new.index]
    frame["in_both"] = [i in top_old and i in top_new for i in new.index]
    return frame.groupby("group")[["moved_in", "moved_out", "in_both"]].sum().astype(int)


def adopted_out_of_sample(table: pd.DataFrame, directions: Mapping[str, str],
                          candidates: Candidates | None = None) -> pd.DataFrame | None:
    """The adopted candidate's leave-one-borough-out figures, as a build reports them: for each
    criterion, Spearman ρ of the held-out scores London-wide and within each borough. None when
    no candidate is adopted or the table lacks a column the comparison needs (a user's own
    table)."""
    cands = candidates or load_candidates()
    if cands.adopted is None:
        return None
    needed = {i for c in cands.candidates for i in c.indicators}
    needed |= {*cands.criteria, cands.group_column}
    if not needed <= set(table.columns):
        return None
    comp = Comparison(table, cands, directions)
    ev = comp.evaluate(comp.candidates.candidate(cands.adopted))
    rows = []
    scopes = [("london", np.ones(len(comp.groups), dtype=bool))]
    scopes += [(g, comp.groups == g) for g in sorted(pd.unique(comp.groups))]
    for crit in cands.criteria:
        for scope, mask in scopes:
            x, y = ev.out_of_sample[mask], comp.criteria[crit][mask]
            rows.append({"candidate": cands.adopted, "reference": crit, "scope": scope,
                         "n": int((x.notna() & y.notna()).sum()), "spearman_rho": _rho(x, y)})
    return pd.DataFrame(rows)
