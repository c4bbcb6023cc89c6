"""Statistical peers of the network: ETS and the Theta method (statsmodels), fitted once on the
training span and run forward with the fitted parameters through every later observation.

* ``ets``: ETSModel with additive errors, an additive damped trend and an additive season of
  length ``season`` where the season is > 1 and the fitting rows hold at least three seasons;
  smoothing parameters by maximum likelihood, initial states by statsmodels' heuristic;
* ``theta``: ThetaModel (Assimakopoulos-Nikolopoulos, as in Hyndman & Billah 2003, theta = 2),
  deseasonalised when statsmodels' seasonality test says so.

After fitting, the state (level, trend, season; the SES level for Theta) is updated through the
observations after the training span with the *fitted* parameters, never refitted, and the
``horizon``-step forecast from every anchor is read off the state at that anchor. So the peers are
scored on exactly the windows of the model, and only values up to each anchor enter its forecast.
Fitting uses at most ``MAX_FIT_ROWS`` recent training rows, so long series stay fast.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

PEERS = ("ets", "theta")
MAX_FIT_ROWS = 2000  # most recent training rows the peers are fitted on (bounded time on long series)
MIN_FIT_ROWS = 10


@dataclass
class PeerStates:
    """States of one peer after each row ``t >= start``; ``forecast`` reads the h-step forecasts."""

    name: str
    start: int  # first row of the fitting rows
    level: np.ndarray  # (N,) state after row t (NaN before start)
    trend: np.ndarray  # (N,) damped trend (ETS) or zeros
    season: np.ndarray  # (N,) seasonal state of row t (ETS) or zeros
    phi: float = 1.0  # trend damping (ETS)
    m: int = 1  # season length used (1: none)
    theta_b0: float = 0.0  # Theta: drift of the linear trend
    theta_alpha: float = 1.0  # Theta: SES smoothing
    theta_seasonal: np.ndarray = field(default_factory=lambda: np.empty(0))  # Theta: factors by (t - start) % m
    theta_mul: bool = False  # Theta: multiplicative deseasonalisation
    words: str = ""  # what was fitted, for notes

    def forecast(self, anchors: np.ndarray, horizon: int) -> np.ndarray:
        """``(n, horizon)`` forecasts from each anchor (NaN for anchors before the fitting rows)."""
        a = np.asarray(anchors, dtype=np.int64)
        k = np.arange(1, horizon + 1)
        ok = a >= self.start
        safe = np.where(ok, a, self.start)
        if self.name == "ets":
            phik = np.cumsum(self.phi ** k)  # (h,)
            out = self.level[safe][:, None] + phik[None, :] * self.trend[safe][:, None]
            if self.m > 1:
                back = self.m * np.ceil(k / self.m).astype(np.int64)
                out = out + self.season[safe[:, None] + k[None, :] - back[None, :]]
        else:
            nobs = (safe - self.start + 1).astype(np.float64)  # observations seen at the anchor
            al = self.theta_alpha
            steps = (k - 1).astype(np.float64)[None, :]
            if al > 0:
                steps = steps + 1 / al - ((1 - al) ** nobs)[:, None] / al
            out = 0.5 * self.theta_b0 * steps + self.level[safe][:, None]
            if self.theta_seasonal.size:
                idx = (safe[:, None] - self.start + k[None, :]) % self.m
                fac = self.theta_seasonal[idx]
                out = out * fac if self.theta_mul else out + fac
        return np.where(ok[:, None], out, np.nan)


def fit_ets(y: np.ndarray, train_end: int, season: int) -> PeerStates:
    """ETS on ``y[start:train_end]`` (start: at most MAX_FIT_ROWS back), states through all of ``y``."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(y, dtype=np.float64)
    start = max(0, train_end - MAX_FIT_ROWS)
    fit_y = y[start:train_end]
    m = season if season > 1 and len(fit_y) >= 3 * season else 1
    kw = dict(seasonal="add", seasonal_periods=m) if m > 1 else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ETSModel(fit_y, error="add", trend="add", damped_trend=True, initialization_method="heuristic",
                       **kw).fit(disp=False)
    alpha, beta, phi = float(res.smoothing_level), float(res.smoothing_trend), float(res.damping_trend)
    gamma = float(res.smoothing_seasonal) if m > 1 else 0.0
    n = len(y)
    level, trend, seas = np.full(n, np.nan), np.zeros(n), np.zeros(n)
    level[start:train_end] = np.asarray(res.level)
    trend[start:train_end] = np.asarray(res.slope)
    if m > 1:
        seas[start:train_end] = np.asarray(res.season)
    lv, tr = level[train_end - 1], trend[train_end - 1]
    for t in range(train_end, n):  # the fitted parameters, the state updated by each new observation
        s_old = seas[t - m] if m > 1 else 0.0
        e = y[t] - (lv + phi * tr + s_old)
        lv, tr = lv + phi * tr + alpha * e, phi * tr + beta * e
        level[t], trend[t] = lv, tr
        if m > 1:
            seas[t] = s_old + gamma * e
    words = f"ETS(A,Ad,{'A' if m > 1 else 'N'}{f', m={m}' if m > 1 else ''}) on {len(fit_y)} training rows"
    return PeerStates("ets", start, level, trend, seas, phi=phi, m=m, words=words)


def fit_theta(y: np.ndarray, train_end: int, season: int) -> PeerStates:
    """Theta on ``y[start:train_end]``, the SES level run through all of ``y`` with the fitted alpha."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = np.asarray(y, dtype=np.float64)
    start = max(0, train_end - MAX_FIT_ROWS)
    fit_y = y[start:train_end]
    m = season if season > 1 and len(fit_y) >= 2 * season else 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ThetaModel(fit_y, period=m, deseasonalize=m > 1)
        res = model.fit()
    b0, alpha = float(res.params["b0"]), float(res.params["alpha"])
    mul = model.method.startswith("mul")
    seasonal = np.empty(0)
    if m > 1:  # factors by (t - start) % m, read off the forecast components (step s: row nobs + s - 1)
        comp = np.asarray(res.forecast_components(m)["seasonal"], dtype=np.float64)
        seasonal = np.empty(m)
        seasonal[(len(fit_y) + np.arange(m)) % m] = comp
    n = len(y)
    x = y[start:].copy()  # deseasonalised observations from the fitting start on
    if seasonal.size:
        fac = seasonal[np.arange(len(x)) % m]
        x = x / fac if mul else x - fac
    level = np.full(n, np.nan)
    lv = x[0]
    for i, v in enumerate(x):  # SES with the fitted alpha (statsmodels: initial level = first value)
        lv = alpha * v + (1 - alpha) * lv
        level[start + i] = lv
    words = f"Theta (theta=2{f', deseasonalised m={m}' if seasonal.size else ''}) on {len(fit_y)} training rows"
    return PeerStates("theta", start, level, np.zeros(n), np.zeros(n), m=max(m, 1), theta_b0=b0, theta_alpha=alpha,
                      theta_seasonal=seasonal, theta_mul=mul, words=words)


def fit_peers(y: np.ndarray, train_end: int, season: int) -> tuple[dict[str, PeerStates], list[str]]:
    """Both peers; one that cannot be fitted is left out with a note saying why (never an exception)."""
    out, notes = {}, []
    y = np.asarray(y, dtype=np.float64)
    if train_end < MIN_FIT_ROWS or not np.all(np.isfinite(y)):
        why = "fewer than 10 training rows" if train_end < MIN_FIT_ROWS else "the target has missing values"
        return {}, [f"ETS and Theta were not fitted: {why}"]
    for name, fitter in (("ets", fit_ets), ("theta", fit_theta)):
        try:
            states = fitter(y, train_end, season)
        except Exception as exc:  # statsmodels raises many types (LinAlgError, ValueError, ...)
            notes.append(f"{name} could not be fitted on the training span: {type(exc).__name__}: {exc}")
            continue
        if not np.all(np.isfinite(states.level[train_end - 1:])):
            notes.append(f"{name} diverged on the data after the training span (non-finite state); left out")
            continue
        out[name] = states
    return out, notes
