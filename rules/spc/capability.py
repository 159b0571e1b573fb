"""Process capability: Cp, Cpk, Cpl, Cpu, Cpm from within-subgroup sigma, Pp and Ppk from
the overall standard deviation, with 95% confidence limits for Cp and Cpk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats


@dataclass(frozen=True)
class Capability:
    cp: float | None
    cpk: float | None
    cpl: float | None
    cpu: float | None
    cpm: float | None
    pp: float | None
    ppk: float | None
    cp_ci: tuple[float, float] | None
    cpk_ci: tuple[float, float] | None


def capability(
    values: NDArray[np.float64],
    *,
    mean: float,
    sigma: float,
    lsl: float | None,
    usl: float | None,
    target: float | None = None,
    confidence: float = 0.95,
) -> Capability:
    """Indices of ``values`` (all observations) against one- or two-sided specs.

    Confidence limits as in Montgomery and in qcc: chi-square for Cp, the normal
    approximation of Bissell for Cpk.
    """
    if lsl is None and usl is None:
        raise ValueError("capability needs --lsl, --usl or both")
    if lsl is not None and usl is not None and not lsl < usl:
        raise ValueError(f"LSL {lsl} must be below USL {usl}")
    n = len(values)
    overall = float(np.std(values, ddof=1))
    cpu = (usl - mean) / (3 * sigma) if usl is not None else None
    cpl = (mean - lsl) / (3 * sigma) if lsl is not None else None
    ppu = (usl - mean) / (3 * overall) if usl is not None else None
    ppl = (mean - lsl) / (3 * overall) if lsl is not None else None
    cpk = float(min(v for v in (cpu, cpl) if v is not None))
    ppk = float(min(v for v in (ppu, ppl) if v is not None))
    cp = pp = cpm = cp_ci = None
    if lsl is not None and usl is not None:
        cp = (usl - lsl) / (6 * sigma)
        pp = (usl - lsl) / (6 * overall)
        aim = target if target is not None else (lsl + usl) / 2
        cpm = (usl - lsl) / (6 * float(np.sqrt(sigma**2 + (mean - aim) ** 2)))
        tail = (1 - confidence) / 2
        chi = stats.chi2.ppf([tail, 1 - tail], n - 1)
        cp_ci = (float(cp * np.sqrt(chi[0] / (n - 1))), float(cp * np.sqrt(chi[1] / (n - 1))))
    z = float(stats.norm.ppf((1 + confidence) / 2))
    spread = z * float(np.sqrt(1 / (9 * n * cpk**2) + 1 / (2 * (n - 1))))
    cpk_ci = (cpk * (1 - spread), cpk * (1 + spread))
    return Capability(cp, cpk, cpl, cpu, cpm, pp, ppk, cp_ci, cpk_ci)
