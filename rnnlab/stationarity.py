"""Stationarity tests and the automatic target transform, from the training span only."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnlab.errors import DataError


@dataclass(frozen=True)
class ADFResult:
    statistic: float  # t-statistic of the lagged level in the ADF regression
    critical_5pct: float  # MacKinnon 5% critical value (regression with a constant)
    lags: int  # lagged differences included
    n_obs: int  # observations used in the regression

    @property
    def stationary(self) -> bool:
        """True when the unit-root null is rejected at 5%."""
        return self.statistic < self.critical_5pct

def _adf_regression(y: np.ndarray, lags: int, start: int) -> tuple[float, float, int]:
    """OLS of ``dy_t`` on ``[1, y_{t-1}, dy_{t-1..t-lags}]`` for ``t >= start``.

    Returns ``(t statistic of y_{t-1}, BIC, n_obs)``.
    """
    dy = np.diff(y)
    rows = len(dy) - start
    cols = [np.ones(rows), y[start:-1]]
    for i in range(1, lags + 1):
        cols.append(dy[start - i : len(dy) - i])
    X = np.column_stack(cols)
    target = dy[start:]
    coef, *_ = np.linalg.lstsq(X, target, rcond=None)
    resid = target - X @ coef
    rss = float(resid @ resid)
    dof = max(1, rows - X.shape[1])
    sigma2 = rss / dof
    xtx_inv = np.linalg.pinv(X.T @ X)
    se = math.sqrt(max(sigma2 * xtx_inv[1, 1], 1e-300))
    bic = rows * math.log(max(rss / rows, 1e-300)) + X.shape[1] * math.log(rows)
    return float(coef[1] / se), bic, rows

def adf_test(y: np.ndarray, max_lags: int | None = None) -> ADFResult:
    """Augmented Dickey-Fuller test with a constant (numpy only).

    Regression: ``dy_t = a + g * y_{t-1} + sum_i b_i dy_{t-i} + e``; the statistic is
    ``g / se(g)``. The number of lagged differences is chosen by BIC among
    ``0 .. 12 * (n / 100) ** 0.25`` on a common sample (as statsmodels' ``autolag="BIC"``),
    then the regression is refitted on all usable rows. Critical value: MacKinnon's 5%
    response surface for the constant-only case.
    """
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)]
    n = len(y)
    if n < 12:
        raise DataError(f"a stationarity test needs at least 12 finite values, got {n}")
    if max_lags is None:
        max_lags = int(12 * (n / 100.0) ** 0.25)
    max_lags = max(0, min(max_lags, n // 4))
    best_lag, best_bic = 0, math.inf
    for lag in range(max_lags + 1):
        _, bic, _ = _adf_regression(y, lag, max_lags)
        if bic < best_bic:
            best_lag, best_bic = lag, bic
    stat, _, rows = _adf_regression(y, best_lag, best_lag)
    crit = -2.8621 - 2.738 / rows - 8.36 / rows**2
    return ADFResult(statistic=stat, critical_5pct=crit, lags=best_lag, n_obs=rows)

@dataclass(frozen=True)
class KPSSResult:
    statistic: float  # eta / long-run variance of the demeaned series
    critical_10pct: float  # Kwiatkowski et al. (1992) 10% critical value, level stationarity
    lags: int  # Bartlett-window lags of the long-run variance

    @property
    def stationary(self) -> bool:
        """True when level stationarity is *not* rejected at 10% (the null here is stationarity)."""
        return self.statistic < self.critical_10pct

KPSS_CRITICAL_10PCT = 0.347  # level-stationarity (constant only); 5%: 0.463, 1%: 0.739

def kpss_test(y: np.ndarray) -> KPSSResult:
    """KPSS test of level stationarity (numpy only), the complement of the ADF test: its null
    is stationarity. ``e = y - mean(y)``, statistic ``sum(cumsum(e)**2) / (n**2 * s2)`` with the
    Bartlett-weighted long-run variance ``s2``; lags chosen from the data as Hobijn, Franses
    and Ooms (1998) propose (statsmodels' ``nlags="auto"``)."""
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)]
    n = len(y)
    if n < 12:
        raise DataError(f"a stationarity test needs at least 12 finite values, got {n}")
    e = y - y.mean()

    def autocov(lag: int) -> float:
        return float(e[lag:] @ e[: n - lag])

    cov_lags = int(n ** (2.0 / 9.0))
    s0 = autocov(0) / n + sum(autocov(i) / (n / 2.0) for i in range(1, cov_lags + 1))
    s1 = sum(i * autocov(i) / (n / 2.0) for i in range(1, cov_lags + 1))
    gamma = 1.1447 * ((s1 / s0) ** 2) ** (1.0 / 3.0) if s0 != 0 else 0.0
    lags = min(int(gamma * n ** (1.0 / 3.0)), n - 1)
    s2 = (autocov(0) + 2 * sum(autocov(i) * (1.0 - i / (lags + 1.0)) for i in range(1, lags + 1))) / n
    eta = float(np.sum(np.cumsum(e) ** 2)) / n**2
    stat = eta / s2 if s2 > 0 else math.inf
    return KPSSResult(statistic=stat, critical_10pct=KPSS_CRITICAL_10PCT, lags=lags)

def choose_transform(y_train: np.ndarray) -> tuple[str, str]:
    """Pick the target transform from the training span only. Returns ``(transform, reason)``.

    * ``level`` only when both tests agree the series is stationary: ADF rejects a unit root
      at 5% *and* KPSS does not reject level stationarity at 10%. A scaled level model cannot
      leave its training range, so it is kept for series that clearly stay in one.
    * ADF rejects a unit root but KPSS rejects stationarity (mean-reverting around a drifting
      level or season): ``diff``, changes relative to the window's last value.
    * no unit root rejected (trending, random-walk-like): ``log_return`` when the series is
      strictly positive and spans more than a factor of 2 (multiplicative growth, e.g.
      prices), else ``diff``.

    Why both tests: the two mistakes cost very differently. A relative transform on a
    stationary series costs little, while a level model on a series that leaves its training
    range is far worse than persistence (the measurements are in the README's "Honest defaults"
    and bench/results/accuracy.md).
    """
    y = np.asarray(y_train, dtype=np.float64)
    if np.ptp(y) == 0:
        return "level", "constant training span: level"
    res = adf_test(y)
    if abs(res.statistic) >= 1e6:
        # the regression fits exactly (e.g. a noiseless periodic series): deterministic, so it repeats
        return "level", (f"ADF regression fits the training span exactly (statistic {res.statistic:.3g}): a "
                         f"deterministic, repeating series, so the model sees scaled levels")
    adf = f"ADF statistic {res.statistic:.2f} vs 5% critical {res.critical_5pct:.2f}"
    if res.stationary:
        kp = kpss_test(y)
        kp_text = f"KPSS {kp.statistic:.3g} vs 10% critical {kp.critical_10pct:.3f}"
        if kp.stationary:
            return "level", (f"{adf} rejects a unit root and {kp_text} does not reject stationarity: the "
                             f"series looks stationary, so the model sees scaled levels")
        # mean-reverting but drifting: additive changes (log-returns of a noisy positive series such as
        # wind speed blow up near small values)
        return "diff", (f"{adf} rejects a unit root but {kp_text} rejects stationarity (a drifting level or "
                        f"season), so the level cannot be trusted to stay in the training range: the model "
                        f"predicts changes relative to the window's last value")
    why = f"{adf}: unit root not rejected (trending / random-walk-like)"
    positive = bool(np.all(y > 0))
    if positive and y.max() / y.min() > 2.0:
        return "log_return", (f"{why}; strictly positive with multiplicative growth, so the model predicts "
                              f"log-returns relative to the window's last value")
    return "diff", f"{why}, so the model predicts changes relative to the window's last value"
