"""Stationarity tests (statsmodels' ADF, KPSS and ACF) and the automatic target transform, from the
training span only."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from rnnlab.errors import DataError

MAX_TEST_ROWS = 10_000  # the tests look at the most recent rows of a longer training span (bounded time)


def _clean(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)][-MAX_TEST_ROWS:]
    if len(y) < 12:
        raise DataError(f"a stationarity test needs at least 12 finite values, got {len(y)}")
    return y


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


def adf_test(y: np.ndarray, max_lags: int | None = None) -> ADFResult:
    """Augmented Dickey-Fuller test with a constant: statsmodels' ``adfuller(y, regression="c",
    autolag="BIC")`` (lags up to ``12 * (n / 100) ** 0.25``), on at most the last MAX_TEST_ROWS values."""
    from statsmodels.tsa.stattools import adfuller

    y = _clean(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # statsmodels >= 0.15 asks for the tuple explicitly; 0.14 has no such argument
            out = adfuller(y, maxlag=max_lags, regression="c", autolag="BIC", result_object=False)
        except TypeError:
            out = adfuller(y, maxlag=max_lags, regression="c", autolag="BIC")
        stat, _, lags, nobs, crit, _ = out
    return ADFResult(statistic=float(stat), critical_5pct=float(crit["5%"]), lags=int(lags), n_obs=int(nobs))


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
    """KPSS test of level stationarity, the complement of the ADF test (its null is stationarity):
    statsmodels' ``kpss(y, regression="c", nlags="auto")`` (Hobijn, Franses and Ooms' lag choice), on
    at most the last MAX_TEST_ROWS values."""
    from statsmodels.tsa.stattools import kpss

    y = _clean(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "p-value outside the table": the statistic is what we use
        stat, _, lags, crit = kpss(y, regression="c", nlags="auto")
    return KPSSResult(statistic=float(stat), critical_10pct=float(crit["10%"]), lags=int(lags))


def acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation at lags ``1 .. max_lag`` (statsmodels' ``acf``, FFT), NaN-free input."""
    from statsmodels.tsa.stattools import acf as sm_acf

    return np.asarray(sm_acf(np.asarray(x, dtype=np.float64), nlags=int(max_lag), fft=True), dtype=np.float64)[1:]


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
    try:
        res = adf_test(y)
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):  # an exact fit: a singular regression
        res = ADFResult(statistic=-np.inf, critical_5pct=-2.86, lags=0, n_obs=len(y))
    if not np.isfinite(res.statistic) or abs(res.statistic) >= 1e6:
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
