"""Powder X-ray diffraction of finite particles from the Debye scattering equation, and its peaks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms

# Waasmaier & Kirfel, Acta Cryst. A51, 416 (1995): f0(s) = c + sum_i a_i exp(-b_i s^2), s = sin(theta)/lambda
# = Q / (4 pi) in 1/A, valid to s = 6 1/A. Neutral atoms; anomalous dispersion (f', f'') is not included.
WAASMAIER_KIRFEL: dict[str, tuple[tuple[float, ...], float, tuple[float, ...]]] = {
    "Pb": (
        (16.419567, 32.73859, 6.530247, 2.342742, 19.916475),
        4.049824,
        (0.105499, 1.055049, 25.02589, 80.906593, 6.664449),
    ),
    "Cd": (
        (6.080986, 18.019468, 4.018197, 1.30351, 17.974669),
        0.603504,
        (0.04899, 7.273646, 29.119284, 95.831207, 0.661231),
    ),
    "S": (
        (6.372157, 5.154568, 1.473732, 1.635073, 1.209372),
        0.154722,
        (1.514347, 22.092527, 0.061373, 55.445175, 0.646925),
    ),
    "Se": (
        (17.354071, 4.653248, 4.259489, 4.136455, 6.749163),
        -3.160982,
        (2.349787, 0.00255, 15.57946, 45.181202, 0.177432),
    ),
    "Zn": (
        (14.741002, 6.907748, 4.642337, 2.191766, 38.424042),
        -36.915829,
        (3.388232, 0.243315, 11.903689, 63.31213, 0.000397),
    ),
    "Te": (
        (6.660302, 6.940756, 19.847015, 1.557175, 17.802427),
        -0.806668,
        (33.031654, 0.02575, 5.065547, 84.101616, 0.48766),
    ),
    "O": (
        (2.960427, 2.508818, 0.637853, 0.722838, 1.142756),
        0.027014,
        (14.182259, 5.936858, 0.112726, 34.958481, 0.39024),
    ),
}
CU_K_ALPHA1_A = 1.5406


def form_factor(symbol: str, q_inv_a: np.ndarray) -> np.ndarray:
    """X-ray atomic form factor f0 (electrons) of a neutral atom at scattering vectors Q (1/A).

    Raises:
        ValueError: for an element without tabulated coefficients.
    """
    if symbol not in WAASMAIER_KIRFEL:
        raise ValueError(f"no X-ray form factor for {symbol}; tabulated: {sorted(WAASMAIER_KIRFEL)}")
    a, c, b = WAASMAIER_KIRFEL[symbol]
    s2 = (np.asarray(q_inv_a, dtype=float) / (4 * np.pi)) ** 2
    return c + sum(ai * np.exp(-bi * s2) for ai, bi in zip(a, b, strict=True))


@dataclass(frozen=True)
class PairHistogram:
    """Pair distances of a particle by species pair: the input of the Debye sum.

    distances_a[k] with counts[p, k] = number of unordered pairs i < j of species pair p (pairs[p]) at
    that distance. bin_width_a = 0 means exact distances (one entry per pair).
    """

    species: tuple[str, ...]
    species_counts: tuple[int, ...]
    pairs: tuple[tuple[int, int], ...]
    distances_a: np.ndarray
    counts: np.ndarray
    bin_width_a: float


def pair_histogram(atoms: Atoms, bin_width_a: float = 1e-3, block: int = 1024) -> PairHistogram:
    """Histogram of all interatomic distances of a finite particle, per species pair.

    Distances are rounded to the nearest multiple of bin_width_a (the Debye sum then moves each pair by
    at most bin_width_a / 2: a phase error below Q bin_width_a / 2). bin_width_a = 0 keeps every
    distance exactly (one column per pair: memory grows as N^2, for checks on small particles).
    Pairs are visited in blocks of `block` x `block` atoms, so memory stays small.
    """
    symbols = np.array(atoms.get_chemical_symbols())
    species = tuple(sorted(set(symbols)))
    kind = np.searchsorted(species, symbols)
    n_species = len(species)
    pairs = tuple((a, b) for a in range(n_species) for b in range(a, n_species))
    pair_index = np.full((n_species, n_species), -1)
    for p, (a, b) in enumerate(pairs):
        pair_index[a, b] = pair_index[b, a] = p
    positions = np.asarray(atoms.positions, dtype=float)
    n = len(atoms)
    species_counts = tuple(int((kind == s).sum()) for s in range(n_species))
    exact = bin_width_a <= 0
    if exact:
        rows, cols = np.triu_indices(n, k=1)
        values = np.linalg.norm(positions[rows] - positions[cols], axis=1)
        counts = np.zeros((len(pairs), len(values)))
        counts[pair_index[kind[rows], kind[cols]], np.arange(len(values))] = 1.0
        return PairHistogram(species, species_counts, pairs, values, counts, 0.0)
    extent = np.linalg.norm(positions - positions.mean(axis=0), axis=1).max() if n else 0.0
    n_bins = int(np.ceil(2 * extent / bin_width_a)) + 2
    flat = np.zeros(len(pairs) * n_bins, dtype=np.int64)
    for i0 in range(0, n, block):
        for j0 in range(i0, n, block):
            diff = positions[i0 : i0 + block, None, :] - positions[None, j0 : j0 + block, :]
            bins = np.rint(np.sqrt(np.einsum("ijk,ijk->ij", diff, diff)) / bin_width_a).astype(np.int64)
            keys = pair_index[kind[i0 : i0 + block, None], kind[None, j0 : j0 + block]] * n_bins + bins
            if i0 == j0:  # the diagonal block: each unordered pair once, no self pairs
                keys = keys[np.triu_indices(len(keys), k=1, m=keys.shape[1])]
            flat += np.bincount(keys.ravel(), minlength=len(flat))
    flat = flat.reshape(len(pairs), n_bins)
    occupied = np.nonzero(flat.sum(axis=0))[0]
    return PairHistogram(
        species, species_counts, pairs, occupied * bin_width_a, flat[:, occupied].astype(float), bin_width_a
    )


def _sine_sums(q: np.ndarray, distances: np.ndarray, weights: np.ndarray, block: int = 128) -> np.ndarray:
    """sum_k weights[:, k] sin(q r_k) for every q: (n_weights, n_q).

    On a uniform q grid the sines come from the recurrence exp(i q_(n+1) r) = exp(i q_n r) exp(i dq r),
    restarted exactly at every block of q (rounding stays at the 1e-14 level); a trigonometric call per
    (q, r) costs ten times more. Any other grid takes the direct sine.
    """
    out = np.zeros((weights.shape[0], len(q)))
    uniform = len(q) > 2 and np.allclose(np.diff(q), q[1] - q[0], rtol=1e-9, atol=0)
    if not uniform:
        for start in range(0, len(q), block):
            out[:, start : start + block] = (
                np.sin(np.outer(q[start : start + block], distances)) @ weights.T
            ).T
        return out
    step = np.exp(1j * (q[1] - q[0]) * distances)
    phases = np.empty((block, len(distances)), dtype=complex)
    for start in range(0, len(q), block):
        size = min(block, len(q) - start)
        phases[0] = np.exp(1j * q[start] * distances)
        for k in range(1, size):
            np.multiply(phases[k - 1], step, out=phases[k])
        out[:, start : start + size] = (phases[:size].imag @ weights.T).T
    return out


def debye_intensity(
    histogram: PairHistogram,
    q_inv_a: np.ndarray,
    b_iso_a2: dict[str, float] | None = None,
) -> np.ndarray:
    """Debye scattering equation I(Q) = sum_i f_i^2 + 2 sum_{i<j} f_i f_j sin(Q r_ij)/(Q r_ij) (electrons^2).

    The Debye-Waller factor exp(-(B_i + B_j) s^2), s = Q/(4 pi), damps the pair terms only: the self
    terms are unchanged, so the intensity lost from the peaks reappears as thermal diffuse background.
    One sine per (Q, distance), shared by all species pairs.

    Args:
        q_inv_a: scattering vectors (1/A), > 0.
        b_iso_a2: isotropic displacement parameter B per element (A^2); missing elements: 0.
    """
    q = np.asarray(q_inv_a, dtype=float)
    s2 = (q / (4 * np.pi)) ** 2
    factors = np.array([form_factor(s, q) for s in histogram.species])
    b = np.array([(b_iso_a2 or {}).get(s, 0.0) for s in histogram.species])
    intensity = sum(n * f**2 for n, f in zip(histogram.species_counts, factors, strict=True))
    sums = _sine_sums(q, histogram.distances_a, histogram.counts / histogram.distances_a) / q
    for p, (a, c) in enumerate(histogram.pairs):
        damping = np.exp(-(b[a] + b[c]) * s2)
        intensity = intensity + 2 * factors[a] * factors[c] * damping * sums[p]
    return intensity


def debye_intensity_direct(atoms: Atoms, q_inv_a: np.ndarray) -> np.ndarray:
    """The Debye double sum over all ordered pairs i, j (including i = j), term by term: a reference."""
    q = np.asarray(q_inv_a, dtype=float)
    symbols = atoms.get_chemical_symbols()
    factors = {s: form_factor(s, q) for s in set(symbols)}
    intensity = np.zeros_like(q)
    for i in range(len(atoms)):
        for j in range(len(atoms)):
            r = np.linalg.norm(atoms.positions[i] - atoms.positions[j])
            intensity += (
                factors[symbols[i]] * factors[symbols[j]] * (np.sin(q * r) / (q * r) if r > 0 else 1.0)
            )
    return intensity


def two_theta_deg(q_inv_a: np.ndarray, wavelength_a: float) -> np.ndarray:
    """Scattering angle 2 theta (degrees) of Q = 4 pi sin(theta) / lambda."""
    return np.degrees(2 * np.arcsin(np.asarray(q_inv_a) * wavelength_a / (4 * np.pi)))


def q_from_two_theta(two_theta: np.ndarray, wavelength_a: float) -> np.ndarray:
    """Q (1/A) of a scattering angle 2 theta (degrees)."""
    return 4 * np.pi * np.sin(np.radians(np.asarray(two_theta)) / 2) / wavelength_a


def polarisation_factor(two_theta: np.ndarray) -> np.ndarray:
    """(1 + cos^2 2theta) / 2: an unpolarised beam, no monochromator."""
    return (1 + np.cos(np.radians(two_theta)) ** 2) / 2


def reduced_pdf(
    histogram: PairHistogram, r_a: np.ndarray, q_max_inv_a: float = 20.0, q_step_inv_a: float = 0.01
) -> np.ndarray:
    """Reduced pair distribution G(r) = (2/pi) int F(Q) sin(Qr) dQ, F = Q [S(Q) - 1], up to q_max.

    S(Q) - 1 = (I(Q) - sum_i f_i^2) / (N <f>^2) (Faber-Ziman average), from the same Debye sum, so the
    G(r) shows the termination ripples of a measurement up to q_max.
    """
    q = np.arange(q_step_inv_a, q_max_inv_a + q_step_inv_a / 2, q_step_inv_a)
    factors = np.array([form_factor(s, q) for s in histogram.species])
    counts = np.array(histogram.species_counts, dtype=float)
    self_term = (counts[:, None] * factors**2).sum(axis=0)
    mean_f = (counts[:, None] * factors).sum(axis=0) / counts.sum()
    structure = (debye_intensity(histogram, q) - self_term) / (counts.sum() * mean_f**2)
    reduced = q * structure
    return (2 / np.pi) * np.trapezoid(reduced[None, :] * np.sin(np.outer(r_a, q)), q, axis=1)


# The first reflections of the rock-salt / zinc blende (fcc) lattices, in the order of Q
FCC_REFLECTIONS = ((1, 1, 1), (2, 0, 0), (2, 2, 0), (3, 1, 1))


def hkl_label(hkl: tuple[int, int, int]) -> str:
    return "(" + "".join(str(i) for i in hkl) + ")"


def reflection_q(lattice_a: float, hkl: tuple[int, int, int]) -> float:
    """Bragg position Q = 2 pi |hkl| / a (1/A) of a cubic lattice."""
    return 2 * np.pi * np.sqrt(sum(i * i for i in hkl)) / lattice_a


@dataclass(frozen=True)
class Peak:
    """One fitted reflection: its Gaussian components on a linear background, in Q and 2 theta.

    heights are those of the pattern the fit saw (polarisation included); areas are integrated over
    2 theta (degrees), i.e. as a diffractometer scanning 2 theta records them.
    """

    hkl: str
    centres_inv_a: tuple[float, ...]
    fwhm_inv_a: tuple[float, ...]
    heights: tuple[float, ...]
    areas_two_theta: tuple[float, ...]
    height: float
    raw_height: float
    area_two_theta: float
    wavelength_a: float
    fitted: bool = True

    @property
    def split(self) -> bool:
        return len(self.centres_inv_a) > 1

    @property
    def centre_inv_a(self) -> float:
        """Area-weighted centre of the components."""
        return float(np.average(self.centres_inv_a, weights=self.areas_two_theta))


def _gaussians(q: np.ndarray, *params: float) -> np.ndarray:
    slope, offset, *components = params
    model = slope * (q - q.mean()) + offset
    for height, centre, sigma in zip(components[0::3], components[1::3], components[2::3], strict=True):
        model = model + height * np.exp(-0.5 * ((q - centre) / sigma) ** 2)
    return model


def fit_reflections(
    q_inv_a: np.ndarray,
    intensity: np.ndarray,
    lattices_a: list[float],
    wavelength_a: float,
    reflections: tuple[tuple[int, int, int], ...] = FCC_REFLECTIONS[:3],
    prominence: float = 0.03,
    diameter_a: float | None = None,
) -> dict[str, Peak]:
    """Fit the (111), (200), (220) reflections of a diffractometer pattern: Gaussians on a linear background.

    Each reflection's window runs from midway to its lower neighbour to midway to its upper one, with
    its Bragg positions for all lattice parameters of the particle (core and shell) inside. Local maxima
    in a window with a prominence above `prominence` x the window's range are the components: two
    maxima in one window make a split peak, reported as such. Neighbouring windows are fitted together
    ((111) with (200): they overlap for nanometre particles).

    Args:
        intensity: polarisation-corrected intensity on the Q grid (uniform or not).
        lattices_a: cubic lattice parameters of the phases present.
        diameter_a: particle diameter; bounds each component's FWHM to twice the Scherrer width
            2 pi K / D (K = 0.9), so that a broad component cannot absorb the background between the
            overlapping (111) and (200) reflections of a few-nanometre particle.

    Returns:
        hkl label -> Peak.
    """
    from scipy.optimize import curve_fit
    from scipy.signal import find_peaks

    all_hkl = FCC_REFLECTIONS
    centres = [np.mean([reflection_q(a, hkl) for a in lattices_a]) for hkl in all_hkl]
    edges = (
        [centres[0] - (centres[1] - centres[0])]
        + [(lo + hi) / 2 for lo, hi in zip(centres[:-1], centres[1:], strict=True)]
        + [centres[-1] + (centres[-1] - centres[-2]) / 2]
    )
    windows = {hkl: (edges[k], edges[k + 1]) for k, hkl in enumerate(all_hkl)}
    # (111) + (200) share one fit region, every other reflection has its own
    groups = [[hkl for hkl in reflections if hkl in ((1, 1, 1), (2, 0, 0))]]
    groups += [[hkl] for hkl in reflections if hkl not in ((1, 1, 1), (2, 0, 0))]
    polarisation = polarisation_factor(two_theta_deg(q_inv_a, wavelength_a))
    peaks: dict[str, Peak] = {}
    for group in (g for g in groups if g):
        lo, hi = windows[group[0]][0], windows[group[-1]][1]
        mask = (q_inv_a >= lo) & (q_inv_a <= hi)
        q, y = q_inv_a[mask], intensity[mask]
        guesses, owners = [], []
        for hkl in group:
            in_window = (q >= windows[hkl][0]) & (q < windows[hkl][1])
            found, _ = find_peaks(y[in_window], prominence=prominence * np.ptp(y[in_window]))
            if len(found) == 0:  # no maximum (a shoulder): one component at the strongest point
                found = np.array([int(np.argmax(y[in_window]))])
            for index in found:
                guesses.append((y[in_window][index] - y.min(), q[in_window][index], 0.02))
                owners.append(hkl)
        start = [(y[-1] - y[0]) / np.ptp(q), y.min()] + [v for g in guesses for v in g]
        # each component stays in its reflection's window, positive, no wider than the window
        widest = {hkl: windows[hkl][1] - windows[hkl][0] for hkl in owners}
        if diameter_a:
            widest = {hkl: min(w, 2 * 2 * np.pi * 0.9 / diameter_a / 2.3548) for hkl, w in widest.items()}
        lower = [-np.inf, -np.inf] + [v for hkl in owners for v in (0.0, windows[hkl][0], 1e-3)]
        upper = [np.inf, np.inf] + [v for hkl in owners for v in (np.inf, windows[hkl][1], widest[hkl])]
        start = np.clip(start, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
        try:
            params, _ = curve_fit(_gaussians, q, y, p0=start, bounds=(lower, upper), maxfev=20000)
            fitted = True
        except RuntimeError:  # no convergence: the local maxima themselves, said so in the table
            params, fitted = start, False
        for hkl in group:
            comps = [k for k, owner in enumerate(owners) if owner == hkl]
            heights = [float(params[2 + 3 * k]) for k in comps]
            centres_k = [float(params[3 + 3 * k]) for k in comps]
            sigmas = [abs(float(params[4 + 3 * k])) for k in comps]
            # area in 2theta (degrees): d(2theta)/dQ = lambda / (2 pi cos theta) rad
            jacobian = [
                np.degrees(
                    wavelength_a / (2 * np.pi * np.cos(np.radians(two_theta_deg(c, wavelength_a) / 2)))
                )
                for c in centres_k
            ]
            areas = [
                h * s * np.sqrt(2 * np.pi) * j for h, s, j in zip(heights, sigmas, jacobian, strict=True)
            ]
            # height: the maximum of this reflection's own components, not of the pattern (whose
            # neighbour's tail would be counted under a shoulder)
            own = sum(
                h * np.exp(-0.5 * ((q - c) / w) ** 2)
                for h, c, w in zip(heights, centres_k, sigmas, strict=True)
            )
            top = int(np.argmax(own))
            peaks[hkl_label(hkl)] = Peak(
                hkl=hkl_label(hkl),
                centres_inv_a=tuple(centres_k),
                fwhm_inv_a=tuple(2.3548 * s for s in sigmas),
                heights=tuple(heights),
                areas_two_theta=tuple(float(a) for a in areas),
                height=float(own[top]),
                raw_height=float(own[top] / polarisation[mask][top]),
                area_two_theta=float(sum(areas)),
                wavelength_a=wavelength_a,
                fitted=fitted,
            )
    return peaks


def bragg_powder_intensities(
    bulk: Atoms, wavelength_a: float, reflections: tuple[tuple[int, int, int], ...] = FCC_REFLECTIONS[:2]
) -> dict[str, float]:
    """Integrated powder intensities m |F_hkl|^2 LP of a cubic crystal (the powder-file convention).

    LP = (1 + cos^2 2theta) / (sin^2 theta cos theta) (Bragg-Brentano, unpolarised, no monochromator);
    no Debye-Waller factor. m counts the {hkl} permutations with signs.
    """
    from itertools import permutations, product

    a = bulk.cell.lengths()[0]
    fractional = bulk.get_scaled_positions()
    out = {}
    for hkl in reflections:
        q = reflection_q(a, hkl)
        family = {
            tuple(s * v for s, v in zip(signs, perm, strict=True))
            for perm in permutations(hkl)
            for signs in product((1, -1), repeat=3)
        }
        factors = np.array([form_factor(s, np.array([q]))[0] for s in bulk.get_chemical_symbols()])
        structure = np.sum(factors * np.exp(2j * np.pi * fractional @ np.array(hkl)))
        theta = np.radians(two_theta_deg(q, wavelength_a) / 2)
        lp = (1 + np.cos(2 * theta) ** 2) / (np.sin(theta) ** 2 * np.cos(theta))
        out[hkl_label(hkl)] = float(len(family) * abs(structure) ** 2 * lp)
    return out
