"""Simulated dual-labelled cells with a known ground truth.

The simulator is the course's embedded default dataset. Each image shows a
main cell near the centre surrounded by neighbouring cells that fill the field
of view as in a confluent culture (``nucleus_membrane``: one isolated cell).
Every cell has a random shape, size and position; its structure (stress
fibres, microtubules, caveolae, focal adhesions, or nucleus and plasma
membrane) is drawn at random and imaged twice, once per label:

* the **input** label has low contrast: a wider point-spread function (PSF),
  a label-specific cytosolic background and, for actin, bright unspecific
  puncta;
* the **target** ("benchmark") label shows the same structure with high
  contrast, but with its own artefacts (intensity fluctuations along the
  microtubules, a different cytosol-to-adhesion ratio for paxillin, ...).

Both labels get Poisson (shot) noise, camera read noise and a camera offset.
The input label is imaged a second time with new noise and a known sub-pixel
stage drift (``input_repeat``, for noise2noise) and 20 times without drift
(``input_average``). ``ground_truth`` is the noise-free, background-free
structure seen through a fine PSF, scaled to [0, 1].

Structures are thin where the real ones are: stress fibres are lines about
one pixel wide (before the PSF), running roughly parallel to the cell's long
axis, most of them in bundles of 2-4 fibres a few pixels apart plus fainter
single fibres, with a thin cortical actin rim along the cell edge; focal
adhesions are short plaques 3-4 pixels wide at the periphery of each cell,
pointing inwards; both paxillin labels contain cytosolic paxillin, in a
different ratio to the adhesions.

The intensities and structure densities are calibrated so that the paper's
contrast protocol (:mod:`l2l_helpers.pairs.contrast`) measures the contrast values
reported in the paper for its real datasets
(``l2l_helpers.pairs.contrast.PAPER_CONTRAST``), within the paper's two standard
deviations, for 8 cells of 256 x 256 pixels. The one exception is the RMS
contrast of the caveolae target (0.22), which no image clipped to [0, 1] can
reach together with its Michelson contrast of 0.98 at a 1 % sample; the
simulated value is about 0.11. The calibration limits how much structure an
image may hold: a target Michelson contrast of 0.93-0.99 with the protocol's
top-10 % sample (after a Gaussian smoothing of 2 pixels) needs the bright
structure to cover at most about 10 % of the field, so a cell carries only
1-2 bright fibre bundles and a few faint fibres, and only 4-8 adhesions.

Examples
--------
>>> cell = simulate_cell("actin", size=128, seed=0)
>>> sorted(cell)[:3]
['benchmark', 'cell_mask', 'drift']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

__all__ = [
    "STRUCTURES",
    "PAIRED_STRUCTURES",
    "PARAMETERS",
    "IMAGE_KEYS",
    "N_AVERAGE",
    "MAX_DRIFT",
    "simulate_cell",
    "simulate_dataset",
    "write_dataset",
    "cell_seeds",
]

#: The simulated structures.
STRUCTURES = ("actin", "tubulin", "caveolae", "pxn", "nucleus_membrane")

#: Structures imaged with two labels of the same structure (label2label pairs).
PAIRED_STRUCTURES = ("actin", "tubulin", "caveolae", "pxn")

#: Image keys returned for each structure (``cell_mask`` is boolean).
IMAGE_KEYS = {
    **{
        s: ("input", "input_repeat", "input_average", "benchmark", "ground_truth", "cell_mask")
        for s in PAIRED_STRUCTURES
    },
    "nucleus_membrane": (
        "superposed",
        "nucleus",
        "membrane",
        "ground_truth_nucleus",
        "ground_truth_membrane",
        "cell_mask",
    ),
}

#: Number of noise realisations averaged into ``input_average``.
N_AVERAGE = 20

#: Largest stage drift per axis (pixels) between ``input`` and ``input_repeat``.
MAX_DRIFT = 4.0

# Imaging parameters per structure. PSFs are Gaussian sigmas in pixels;
# intensities are in photons (expected counts per pixel, before the label's
# ``gain``); read noise is the camera's standard deviation in counts; offset is
# the camera baseline. ``cell_radius`` is a fraction of the image size,
# ``neighbours`` the number of surrounding cells and ``packing`` how far apart
# their centres are (in sums of radii: smaller is denser). Actin: per cell
# ``n_bundles`` bundles of ``fibres_per_bundle`` thin fibres (``fibre_width``
# px) ``fibre_spacing`` px apart plus ``n_faint`` single fibres of relative
# brightness ``faint``, and a cortical rim (``cortex_weight``). Pxn:
# ``n_adhesions`` plaques whose outer end lies ``adhesion_edge_distance`` px
# inside the cell's edge, pointing inwards.
#: Imaging and structure parameters of each structure (stored in metadata).
PARAMETERS = {
    "actin": {
        "cell_radius": (0.3, 0.4),
        "neighbours": (5, 7),
        "packing": (0.6, 0.72),
        "psf_ground_truth": 0.8,
        "psf_input": 1.6,
        "psf_target": 0.9,
        "n_bundles": (1, 2),
        "fibres_per_bundle": (2, 4),
        "fibre_spacing": (2.0, 3.0),
        "n_faint": (3, 6),
        "faint": 0.06,
        "fibre_angle_spread": 0.12,
        "p_transverse": 0.05,
        "fibre_reach": 0.9,
        "fibre_spread": 0.3,
        "fibre_share": 0.85,
        "fibre_modulation": 0.1,
        "fibre_width": 0.6,
        "fibre_gain": 0.75,
        "cortex_weight": 0.03,
        "n_puncta": (20, 45),
        "input": {"structure": 225.0, "cytosol": 70.0, "puncta": 550.0, "baseline": 2.0, "gain": 0.4},
        "target": {"structure": 600.0, "cytosol": 0.2, "baseline": 0.5},
        "read_noise": 2.0,
        "offset": 100.0,
    },
    "tubulin": {
        "cell_radius": (0.3, 0.4),
        "neighbours": (5, 7),
        "packing": (0.6, 0.72),
        "psf_ground_truth": 0.8,
        "psf_input": 2.0,
        "psf_target": 1.0,
        "n_tubules": (6, 11),
        "persistence": 0.06,
        "fluctuation": 0.6,
        "mtoc": 150.0,
        "mtoc_radius": 2.5,
        "input": {"structure": 355.0, "cytosol": 50.0, "baseline": 2.0, "gain": 0.1},
        "target": {"structure": 160.0, "cytosol": 1.0, "baseline": 1.0},
        "read_noise": 2.0,
        "offset": 100.0,
    },
    "caveolae": {
        "cell_radius": (0.45, 0.6),
        "neighbours": (5, 7),
        "packing": (0.6, 0.72),
        "cytosol_texture": 0.03,
        "psf_ground_truth": 0.8,
        "psf_input": 1.4,
        "psf_target": 1.2,
        "n_puncta": (6, 12),
        "p_input": 0.9,
        "p_target": 0.6,
        "correlation": 0.2,
        "input": {"structure": 360.0, "cytosol": 5.0, "baseline": 0.25},
        "target": {"structure": 150.0, "cytosol": 0.0, "baseline": 0.002},
        "read_noise": 0.0,
        "offset": 0.0,
    },
    "pxn": {
        "cell_radius": (0.3, 0.4),
        "neighbours": (5, 7),
        "packing": (0.61, 0.74),
        "psf_ground_truth": 0.8,
        "psf_input": 1.4,
        "psf_target": 0.9,
        "n_adhesions": (4, 8),
        "adhesion_length": (8.0, 14.0),
        "adhesion_edge_distance": (2.0, 8.0),
        "adhesion_angle_spread": 0.25,
        "adhesion_spread": 0.15,
        "adhesion_width": (3.0, 4.0),
        "input": {"structure": 135.0, "cytosol": 20.8, "baseline": 2.0, "gain": 0.3},
        "target": {"structure": 1200.0, "cytosol": 0.2, "baseline": 0.5},
        "read_noise": 2.0,
        "offset": 100.0,
    },
    "nucleus_membrane": {
        "cell_radius": (0.27, 0.38),
        "neighbours": (0, 0),
        "psf_ground_truth": 0.8,
        "psf_nucleus": 1.5,
        "psf_membrane": 1.5,
        "nucleus": {"structure": 80.0, "baseline": 2.0},
        "membrane": {"structure": 80.0, "cytosol": 6.0, "baseline": 2.0},
        "read_noise": 2.0,
        "offset": 100.0,
    },
}


# ----------------------------------------------------------------------------
# small helpers


def _check_structure(structure):
    if structure not in STRUCTURES:
        raise ValueError(f"unknown structure {structure!r}; choose one of {', '.join(STRUCTURES)}")


def _check_size(size):
    if int(size) != size or size < 32:
        raise ValueError(f"size must be an integer of at least 32 pixels, got {size!r}")
    return int(size)


def _splat(ys, xs, weights, size):
    """Accumulate point weights onto a grid with bilinear interpolation."""
    ys = np.asarray(ys, dtype=np.float64).ravel()
    xs = np.asarray(xs, dtype=np.float64).ravel()
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), ys.shape).ravel()
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    fy = ys - y0
    fx = xs - x0
    out = np.zeros(size * size, dtype=np.float64)
    for dy, dx, f in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        yy = y0 + dy
        xx = x0 + dx
        ok = (yy >= 0) & (yy < size) & (xx >= 0) & (xx < size)
        out += np.bincount(yy[ok] * size + xx[ok], weights=(w * f)[ok], minlength=size * size)
    return out.reshape(size, size)


def _segment_points(y0, x0, y1, x1, step=0.5):
    """Points every ``step`` pixels along segments (arrays of equal length)."""
    y0, x0, y1, x1 = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (y0, x0, y1, x1))
    length = np.hypot(y1 - y0, x1 - x0)
    counts = np.maximum(2, np.ceil(length / step).astype(int) + 1)
    idx = np.repeat(np.arange(len(counts)), counts)
    t = np.concatenate([np.linspace(0.0, 1.0, c) for c in counts]) if len(counts) else np.zeros(0)
    ys = y0[idx] + t * (y1 - y0)[idx]
    xs = x0[idx] + t * (x1 - x0)[idx]
    return ys, xs, idx, t


def _smooth_noise(rng, size, sigma):
    """Smooth random field with zero mean and unit standard deviation."""
    field = ndi.gaussian_filter(rng.standard_normal((size, size)), sigma, mode="wrap")
    sd = field.std()
    return field / sd if sd > 0 else field


def _cell_geometry(rng, size, center, radius):
    """Random outline, nucleus and centrosome of one cell (mask not yet clipped)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    cy, cx = center
    # radius as a function of angle: low harmonics make lamellipodia and tails
    ks = np.arange(2, 6)
    amps = rng.uniform(0.0, 0.12, len(ks)) / np.sqrt(ks - 1)
    phases = rng.uniform(0, 2 * np.pi, len(ks))
    elong = rng.uniform(0.75, 1.0)
    orient = rng.uniform(0, np.pi)

    def radius_at(theta):
        theta = np.asarray(theta, dtype=np.float64)
        r = 1.0 + sum(a * np.cos(k * theta + p) for a, k, p in zip(amps, ks, phases))
        # elongation: ellipse-like stretch along ``orient``
        r = r / np.sqrt((np.cos(theta - orient) ** 2) + (np.sin(theta - orient) / elong) ** 2) * elong
        return radius * r

    dy, dx = yy - cy, xx - cx
    theta = np.arctan2(dy, dx)
    rel = np.hypot(dy, dx) / radius_at(theta)  # 1 at the outline
    # nucleus: an ellipse off-centre within the cell
    n_r = radius * rng.uniform(0.28, 0.38)
    ang = rng.uniform(0, 2 * np.pi)
    off = rng.uniform(0.0, 0.2) * radius
    ny, nx = cy + off * np.sin(ang), cx + off * np.cos(ang)
    n_el = rng.uniform(0.7, 1.0)
    n_or = rng.uniform(0, np.pi)
    ndy, ndx = yy - ny, xx - nx
    u = ndx * np.cos(n_or) + ndy * np.sin(n_or)
    v = -ndx * np.sin(n_or) + ndy * np.cos(n_or)
    nuc_rel = np.sqrt((u / n_r) ** 2 + (v / (n_r * n_el)) ** 2)
    # centrosome just beside the nucleus
    c_ang = rng.uniform(0, 2 * np.pi)
    centrosome = (ny + 1.0 * n_r * np.sin(c_ang), nx + 1.0 * n_r * np.cos(c_ang))
    return {
        "mask": rel < 1.0,
        "rel": rel,
        "theta": theta,
        "center": (cy, cx),
        "radius": radius,
        "orient": orient,
        "radius_at": radius_at,
        "nucleus_rel": nuc_rel,
        "nucleus_center": (ny, nx),
        "nucleus_radius": n_r,
        "centrosome": centrosome,
    }


def _cytosol(rng, size, geo, texture=0.08):
    """Cytosol thickness of one cell: a plateau falling off at the outline,
    with smooth variations and fewer cytosolic proteins in the nucleus."""
    edge = np.clip(1.0 - geo["rel"], 0.0, None)
    thickness = 1.0 - np.exp(-edge / 0.05)
    thickness *= 1.0 + texture * _smooth_noise(rng, size, size / 12)
    thickness *= 1.0 - 0.1 * ndi.gaussian_filter(geo["nucleus"].astype(float), 2.0)
    thickness *= rng.uniform(0.95, 1.05)  # expression differs from cell to cell
    return ndi.gaussian_filter(np.clip(thickness, 0.0, None) * geo["mask"], 1.5)


def _tissue(rng, size, cell_radius, neighbours, packing=(0.8, 0.95), texture=0.08):
    """A main cell near the centre and neighbouring cells around it.

    Pixels belong to the cell whose outline is relatively nearest, so
    touching cells share a border and gaps remain where none reaches.
    """
    r0 = size * rng.uniform(*cell_radius)
    center = size / 2 + rng.uniform(-0.08, 0.08, 2) * size
    geos = [_cell_geometry(rng, size, center, r0)]
    k = int(rng.integers(*neighbours, endpoint=True)) if neighbours[1] > 0 else 0
    if k:
        angles = np.linspace(0, 2 * np.pi, k, endpoint=False) + rng.uniform(0, 2 * np.pi)
        angles += rng.uniform(-0.3, 0.3, k) * np.pi / k
        for a in angles:
            r = size * rng.uniform(*cell_radius)
            dist = (r0 + r) * rng.uniform(*packing)
            c = (center[0] + dist * np.sin(a), center[1] + dist * np.cos(a))
            geos.append(_cell_geometry(rng, size, c, r))
    owner = np.argmin(np.stack([g["rel"] for g in geos]), axis=0)
    for i, g in enumerate(geos):
        g["mask"] = g["mask"] & (owner == i)
        g["nucleus"] = (g["nucleus_rel"] < 1.0) & g["mask"]
        g["cytosol"] = _cytosol(rng, size, g, texture)
    return [g for g in geos if g["mask"].any()]


def _points_in_cell(rng, geo, n, rel_low=0.0, rel_high=0.97):
    """Uniform random points of the cell with ``rel_low <= rel < rel_high``,
    kept only where they fall into the cell's own territory (may be fewer)."""
    cy, cx = geo["center"]
    theta = rng.uniform(0, 2 * np.pi, n)
    # area-uniform radius between the two relative radii
    r = np.sqrt(rng.uniform(rel_low**2, rel_high**2, n))
    rad = r * geo["radius_at"](theta)
    y, x = cy + rad * np.sin(theta), cx + rad * np.cos(theta)
    size = geo["mask"].shape[0]
    iy, ix = np.round(y).astype(int), np.round(x).astype(int)
    inside = (iy >= 0) & (iy < size) & (ix >= 0) & (ix < size)
    inside[inside] = geo["mask"][iy[inside], ix[inside]]
    return y[inside], x[inside], theta[inside], r[inside]


def _image(clean, rng, read_noise, offset):
    """One noisy exposure of an expected-photon image."""
    lam = np.clip(clean, 0.0, None)
    img = rng.poisson(lam).astype(np.float64)
    if read_noise > 0:
        img += rng.normal(0.0, read_noise, lam.shape)
    return (img + offset).astype(np.float32)


def _average(clean, rng, read_noise, offset, n=N_AVERAGE):
    """Mean of ``n`` noisy exposures (sum of Poisson counts is Poisson)."""
    lam = np.clip(clean, 0.0, None)
    img = rng.poisson(lam * n).astype(np.float64) / n
    if read_noise > 0:
        img += rng.normal(0.0, read_noise / np.sqrt(n), lam.shape)
    return (img + offset).astype(np.float32)


def _scale01(image):
    image = np.clip(np.asarray(image, dtype=np.float64), 0.0, None)
    top = image.max()
    return (image / top if top > 0 else image).astype(np.float32)


def _mix(structure_map, cytosol, spec, extra=None):
    """Expected photons of one label before blurring: structure + cytosol (+ extra)."""
    clean = spec["structure"] * structure_map + spec.get("cytosol", 0.0) * cytosol
    if extra is not None:
        clean = clean + extra
    return clean


def _erode(mask, iterations):
    # the frame border is not a cell border
    return ndi.binary_erosion(mask, iterations=iterations, border_value=1)


# ----------------------------------------------------------------------------
# structures: each returns, for one cell, maps before blurring:
# (ground-truth structure, input-label photons, target-label photons)


def _actin(rng, size, geo, p):
    mask = geo["mask"]
    cy, cx = geo["center"]
    radius = geo["radius"]
    # stress fibres: thin, roughly parallel to the cell's long axis, spread
    # across the cell's width and spanning most of its length. Most run in
    # bundles of a few fibres a few pixels apart (bright); others run alone
    # (faint), and a few cross the others (transverse arcs).
    nb = int(rng.integers(*p["n_bundles"], endpoint=True))
    per = rng.integers(p["fibres_per_bundle"][0], p["fibres_per_bundle"][1] + 1, nb)
    nf = int(rng.integers(*p["n_faint"], endpoint=True))
    main = geo["orient"] + rng.normal(0, 0.3)
    # the cell's own territory (neighbours overlap its outline): its centre
    # and extent across (u) and along (v) the fibres
    eroded = _erode(mask, 2)
    ty, tx = np.nonzero(eroded)
    if len(ty) == 0:
        ty, tx = np.array([cy]), np.array([cx])
    my, mx = float(ty.mean()), float(tx.mean())
    u_lo, u_hi = np.percentile((ty - my) * np.cos(main) - (tx - mx) * np.sin(main), [5, 95])
    v_lo, v_hi = np.percentile((ty - my) * np.sin(main) + (tx - mx) * np.cos(main), [5, 95])
    half = max(0.5 * (v_hi - v_lo), 1.0)
    b_ang = main + rng.normal(0, p["fibre_angle_spread"], nb)
    b_off = rng.uniform(u_lo, u_hi, nb)  # across the cell
    b_w = rng.lognormal(0.0, p["fibre_spread"], nb)
    bundle = np.repeat(np.arange(nb), per)
    rank = np.concatenate([np.arange(m) - (m - 1) / 2 for m in per]) if nb else np.zeros(0)
    spacing = rng.uniform(*p["fibre_spacing"], nb)[bundle]
    ang = np.concatenate(
        [b_ang[bundle] + rng.normal(0, 0.02, len(bundle)), main + rng.normal(0, 2 * p["fibre_angle_spread"], nf)]
    )
    offset = np.concatenate([b_off[bundle] + rank * spacing, rng.uniform(u_lo, u_hi, nf)])
    w_fibre = np.concatenate(
        [
            b_w[bundle] * rng.uniform(p["fibre_share"], 1.0, len(bundle)),
            p["faint"] * rng.lognormal(0.0, p["fibre_spread"], nf),
        ]
    )
    n = len(ang)
    second = rng.random(n) < p["p_transverse"]
    ang[second] = main + np.pi / 2 + rng.normal(0, 0.2, int(second.sum()))
    mid = 0.5 * (v_lo + v_hi) + rng.uniform(-0.3, 0.3, n) * half  # along the fibre
    oy = my + offset * np.cos(main) + mid * np.sin(ang)
    ox = mx - offset * np.sin(main) + mid * np.cos(ang)
    # each fibre covers a random part [t0, t1] of its chord through the cell
    t0 = -rng.uniform(0.3, 1.5, n) * half
    t1 = rng.uniform(0.3, 1.5, n) * half
    ys, xs, idx, t = _segment_points(
        oy + t0 * np.sin(ang), ox + t0 * np.cos(ang), oy + t1 * np.sin(ang), ox + t1 * np.cos(ang)
    )
    rel = np.hypot(ys - cy, xs - cx) / geo["radius_at"](np.arctan2(ys - cy, xs - cx))
    iy, ix = np.round(ys).astype(int), np.round(xs).astype(int)
    ok = (iy >= 0) & (iy < size) & (ix >= 0) & (ix < size) & (rel < p["fibre_reach"])
    ok[ok] = eroded[iy[ok], ix[ok]]
    # brightness varies between fibres and slowly along each fibre
    w = w_fibre[idx]
    phase = rng.uniform(0, 2 * np.pi, n)[idx]
    w = w * (1.0 + p["fibre_modulation"] * np.sin((t1[idx] - t0[idx]) * t / radius * 4.0 + phase))
    along = t * (t1 - t0)[idx]  # distance from the fibre's start (pixels)
    w = w * np.clip(np.minimum(along, (t1 - t0)[idx] - along) / 6.0, 0.0, 1.0)  # tapered ends
    fibres = _splat(ys[ok], xs[ok], w[ok], size)
    fibres = ndi.gaussian_filter(fibres, p["fibre_width"]) * p["fibre_gain"]
    # cortical actin: a thin rim along the cell edge
    edge = (mask & ~_erode(mask, 2)).astype(float)
    cortex = ndi.gaussian_filter(edge, 0.7) * p["cortex_weight"]
    cortex *= np.clip(1.0 + 0.3 * _smooth_noise(rng, size, 6.0), 0.2, None)
    structure = fibres + cortex
    # unspecific bright puncta of the AC-15 antibody, spread over the cytosol
    k = rng.integers(*p["n_puncta"], endpoint=True)
    qy, qx, _, _ = _points_in_cell(rng, geo, k, 0.0, 0.95)
    puncta = _splat(qy, qx, rng.gamma(2.0, 0.5, len(qy)), size)
    puncta = ndi.gaussian_filter(puncta, 1.0) * p["input"]["puncta"]
    cyto = geo["cytosol"]
    return structure, _mix(structure, cyto, p["input"], puncta), _mix(structure, cyto, p["target"])


def _tubulin(rng, size, geo, p):
    n = rng.integers(*p["n_tubules"], endpoint=True)
    n_steps = int(3 * geo["radius"] / 0.7)
    cy, cx = geo["center"]
    y = np.full(n, geo["centrosome"][0]) + rng.normal(0, 1.0, n)
    x = np.full(n, geo["centrosome"][1]) + rng.normal(0, 1.0, n)
    ang = rng.uniform(0, 2 * np.pi, n)
    curv = rng.normal(0, 0.01, n)
    alive = np.ones(n, dtype=bool)
    logf = rng.normal(0, 1, n)  # intensity fluctuation along the tubule (AR(1) in log)
    max_len = rng.uniform(0.6, 1.6, n) * geo["radius"]
    pts_y, pts_x, pts_f = [], [], []
    eroded = _erode(geo["mask"], 2)
    for step in range(n_steps):
        ang = ang + curv + rng.normal(0, p["persistence"], n)
        y = y + 0.7 * np.sin(ang)
        x = x + 0.7 * np.cos(ang)
        rel = np.hypot(y - cy, x - cx) / geo["radius_at"](np.arctan2(y - cy, x - cx))
        iy, ix = np.round(y).astype(int), np.round(x).astype(int)
        in_frame = (iy >= 0) & (iy < size) & (ix >= 0) & (ix < size)
        ok = rel < 0.97
        ok[in_frame] &= eroded[iy[in_frame], ix[in_frame]]
        alive &= ok & (step * 0.7 < max_len)
        if not alive.any():
            break
        logf = 0.97 * logf + np.sqrt(1 - 0.97**2) * rng.normal(0, 1, n)
        pts_y.append(y[alive])
        pts_x.append(x[alive])
        pts_f.append(logf[alive])
    ys = np.concatenate(pts_y) if pts_y else np.zeros(0)
    xs = np.concatenate(pts_x) if pts_x else np.zeros(0)
    fl = np.concatenate(pts_f) if pts_f else np.zeros(0)
    structure = _splat(ys, xs, 0.7, size)
    # YOL1/34: sharper, but the intensity fluctuates along the tubules
    fluct = np.exp(p["fluctuation"] * fl - 0.5 * p["fluctuation"] ** 2)
    fluctuating = _splat(ys, xs, 0.7 * fluct, size)
    # the microtubule-organising centre: a dense, bright spot
    mtoc = _splat([geo["centrosome"][0]], [geo["centrosome"][1]], p["mtoc"] * rng.uniform(0.7, 1.3), size)
    mtoc = ndi.gaussian_filter(mtoc, p["mtoc_radius"])
    structure = structure + mtoc
    cyto = geo["cytosol"]
    tgt = p["target"]["structure"] * (fluctuating + mtoc) + p["target"].get("cytosol", 0.0) * cyto
    return structure, _mix(structure, cyto, p["input"]), tgt


def _caveolae(rng, size, geo, p):
    k = rng.integers(*p["n_puncta"], endpoint=True)
    qy, qx, _, _ = _points_in_cell(rng, geo, k, 0.1, 0.97)
    k = len(qy)
    structure = _splat(qy, qx, 1.0, size)
    # each label detects a punctum only sometimes, with weakly correlated
    # efficiencies: the two labels agree on few puncta
    from scipy.special import ndtr

    rho = p["correlation"]
    z1 = rng.standard_normal(k)
    z2 = rho * z1 + np.sqrt(1 - rho**2) * rng.standard_normal(k)
    w_in = (ndtr(z1) < p["p_input"]) * rng.gamma(3.0, 1 / 3.0, k)
    w_tg = (ndtr(z2) < p["p_target"]) * rng.gamma(3.0, 1 / 3.0, k)
    cyto = geo["cytosol"]
    return (
        structure,
        _mix(_splat(qy, qx, w_in, size), cyto, p["input"]),
        _mix(_splat(qy, qx, w_tg, size), cyto, p["target"]),
    )


def _capsules(y0, x0, y1, x1, half_width, weights, size):
    """Filled capsules (segments with round ends) with anti-aliased edges."""
    out = np.zeros((size, size))
    for a, b, c, d, h, w in zip(y0, x0, y1, x1, half_width, weights):
        r0 = int(max(0, np.floor(min(a, c) - h - 2)))
        r1 = int(min(size, np.ceil(max(a, c) + h + 3)))
        c0 = int(max(0, np.floor(min(b, d) - h - 2)))
        c1 = int(min(size, np.ceil(max(b, d) + h + 3)))
        if r0 >= r1 or c0 >= c1:
            continue
        yy, xx = np.mgrid[r0:r1, c0:c1].astype(np.float64)
        vy, vx = c - a, d - b
        t = np.clip(((yy - a) * vy + (xx - b) * vx) / max(vy * vy + vx * vx, 1e-12), 0.0, 1.0)
        dist = np.hypot(yy - (a + t * vy), xx - (b + t * vx))
        out[r0:r1, c0:c1] += w * np.clip(h - dist + 0.5, 0.0, 1.0)
    return out


def _pxn(rng, size, geo, p):
    mask = geo["mask"]
    # focal adhesions sit at the periphery of the cell's own territory: their
    # outer end a few pixels inside the edge, their axis pointing inwards
    # (roughly towards the cell centre), along the gradient of the distance
    # to the edge
    dist = ndi.distance_transform_edt(mask)
    d_lo, d_hi = p["adhesion_edge_distance"]
    cand = np.flatnonzero((dist >= d_lo) & (dist <= d_hi))
    k = int(rng.integers(*p["n_adhesions"], endpoint=True))
    cyto = geo["cytosol"]
    if len(cand) == 0:
        structure = np.zeros((size, size))
        return structure, _mix(structure, cyto, p["input"]), _mix(structure, cyto, p["target"])
    pick = rng.choice(cand, size=min(k, len(cand)), replace=False)
    k = len(pick)
    oy, ox = np.unravel_index(pick, mask.shape)
    oy = oy + rng.uniform(-0.5, 0.5, k)
    ox = ox + rng.uniform(-0.5, 0.5, k)
    smooth = ndi.gaussian_filter(dist, 4.0)
    gy, gx = np.gradient(smooth)
    iy, ix = np.round(oy).astype(int).clip(0, size - 1), np.round(ox).astype(int).clip(0, size - 1)
    ang = np.arctan2(gy[iy, ix], gx[iy, ix]) + rng.normal(0, p["adhesion_angle_spread"], k)
    length = rng.uniform(*p["adhesion_length"], k)
    half_width = 0.5 * rng.uniform(*p["adhesion_width"], k)
    w = rng.lognormal(0.0, p["adhesion_spread"], k)
    structure = _capsules(oy, ox, oy + length * np.sin(ang), ox + length * np.cos(ang), half_width, w, size) * mask
    return structure, _mix(structure, cyto, p["input"]), _mix(structure, cyto, p["target"])


def _nucleus_membrane(rng, size, geo, p):
    mask = geo["mask"]
    nuc = ndi.gaussian_filter(geo["nucleus"].astype(float), 1.0)
    chromatin = 1.0 + 0.3 * _smooth_noise(rng, size, 2.0)
    nucleus = np.clip(nuc * chromatin, 0.0, None)
    edge = (mask & ~_erode(mask, 2)).astype(float)
    membrane = ndi.gaussian_filter(edge, 0.7) * (1.0 + 0.2 * _smooth_noise(rng, size, 4.0))
    membrane = np.clip(membrane, 0.0, None)
    return nucleus, membrane, _mix(nucleus, 0.0, p["nucleus"]), _mix(membrane, geo["cytosol"], p["membrane"])


_BUILDERS = {
    "actin": _actin,
    "tubulin": _tubulin,
    "caveolae": _caveolae,
    "pxn": _pxn,
    "nucleus_membrane": _nucleus_membrane,
}


def _blur(image, psf, spec):
    """Expected photons: blurred label times the label's gain (brightness), plus baseline."""
    return ndi.gaussian_filter(image, psf) * spec.get("gain", 1.0) + spec.get("baseline", 0.0)


# ----------------------------------------------------------------------------
# public API


def simulate_cell(structure, size=256, seed=None):
    """Simulate one dual-labelled cell with its ground truth.

    Parameters
    ----------
    structure : str
        One of :data:`STRUCTURES`: ``"actin"``, ``"tubulin"``, ``"caveolae"``,
        ``"pxn"`` or ``"nucleus_membrane"``.
    size : int
        Image width and height in pixels (at least 32).
    seed : int, numpy.random.SeedSequence or numpy.random.Generator, optional
        Randomness; the same seed gives the same cell.

    Returns
    -------
    dict
        For the paired structures, 2-D float32 arrays of shape
        ``(size, size)``:

        ``input``
            low-contrast label (noisy);
        ``input_repeat``
            a second, separately generated noise realisation of the input
            label, displaced by the stage drift;
        ``input_average``
            mean of :data:`N_AVERAGE` noise realisations of the input label
            (no drift);
        ``benchmark``
            the high-contrast (target) label (noisy);
        ``ground_truth``
            the noise- and background-free structure through a fine PSF,
            scaled to [0, 1];
        ``cell_mask``
            boolean, True inside the cells (the main cell and its
            neighbours);
        ``drift``
            ``(dy, dx)`` floats: the shift that registers ``input_repeat``
            onto ``input`` (the convention of
            ``skimage.registration.phase_cross_correlation(input,
            input_repeat)``), so ``scipy.ndimage.shift(input_repeat, drift)``
            lines up with ``input``.

        For ``"nucleus_membrane"``: ``superposed`` (the sum of the two
        separately imaged labels), ``nucleus``, ``membrane``,
        ``ground_truth_nucleus``, ``ground_truth_membrane`` and
        ``cell_mask`` (no drift, no repeat).

    Raises
    ------
    ValueError
        Unknown structure or a size below 32.

    Examples
    --------
    >>> cell = simulate_cell("tubulin", size=128, seed=1)
    >>> cell["input"].shape, cell["input"].dtype
    ((128, 128), dtype('float32'))
    >>> float(cell["ground_truth"].max())
    1.0
    """
    _check_structure(structure)
    size = _check_size(size)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    p = PARAMETERS[structure]
    # the scene is simulated with a margin, so that the drifted repeat shows
    # real sample at its border instead of repeated edge pixels
    pad = int(np.ceil(MAX_DRIFT)) + 4
    full = size + 2 * pad
    crop = (slice(pad, pad + size), slice(pad, pad + size))
    cells = _tissue(
        rng, full, p["cell_radius"], p["neighbours"], p.get("packing", (0.8, 0.95)), p.get("cytosol_texture", 0.08)
    )
    maps = [_BUILDERS[structure](rng, full, geo, p) for geo in cells]
    cell_mask = np.any([g["mask"] for g in cells], axis=0)[crop]
    read, offset = p["read_noise"], p["offset"]
    gt_psf = p["psf_ground_truth"]
    if structure == "nucleus_membrane":
        nucleus, membrane, nuc_map, mem_map = (np.sum(list(m), axis=0) for m in zip(*maps))
        nuc_noisy = _image(_blur(nuc_map, p["psf_nucleus"], p["nucleus"])[crop], rng, read, offset)
        mem_noisy = _image(_blur(mem_map, p["psf_membrane"], p["membrane"])[crop], rng, read, offset)
        return {
            "superposed": (nuc_noisy + mem_noisy).astype(np.float32),
            "nucleus": nuc_noisy,
            "membrane": mem_noisy,
            "ground_truth_nucleus": _scale01(ndi.gaussian_filter(nucleus, gt_psf)[crop]),
            "ground_truth_membrane": _scale01(ndi.gaussian_filter(membrane, gt_psf)[crop]),
            "cell_mask": cell_mask,
        }
    structure_map, inp_map, tgt_map = (np.sum(list(m), axis=0) for m in zip(*maps))
    inp_full = _blur(inp_map, p["psf_input"], p["input"])
    inp = inp_full[crop]
    tgt = _blur(tgt_map, p["psf_target"], p["target"])[crop]
    drift = rng.uniform(-MAX_DRIFT, MAX_DRIFT, 2)
    # the repeat sees the sample moved by -drift; shifting it back by +drift registers it
    moved = ndi.shift(inp_full, -drift, order=3, mode="nearest")[crop]
    return {
        "input": _image(inp, rng, read, offset),
        "input_repeat": _image(moved, rng, read, offset),
        "input_average": _average(inp, rng, read, offset),
        "benchmark": _image(tgt, rng, read, offset),
        "ground_truth": _scale01(ndi.gaussian_filter(structure_map, gt_psf)[crop]),
        "cell_mask": cell_mask,
        "drift": (float(drift[0]), float(drift[1])),
    }


def cell_seeds(seed, n):
    """Integer seeds of the cells of a dataset: cell ``k`` does not depend on ``n``.

    Parameters
    ----------
    seed : int or None
        Seed of the dataset.
    n : int
        Number of cells.

    Returns
    -------
    list of int
        One seed per cell, from ``numpy.random.SeedSequence(seed).spawn(n)``.

    Examples
    --------
    >>> cell_seeds(0, 3)[:2] == cell_seeds(0, 2)
    True
    """
    children = np.random.SeedSequence(seed).spawn(int(n))
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def simulate_dataset(structure, n=8, size=256, seed=0, progress=False):
    """Simulate ``n`` cells of one structure.

    Parameters
    ----------
    structure : str
        One of :data:`STRUCTURES`.
    n : int
        Number of cells (at least 1).
    size : int
        Image width and height in pixels.
    seed : int
        Seed of the dataset. Cell ``k`` gets its own child seed (see
        :func:`cell_seeds`), so it is the same whatever ``n`` is.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict
        ``"names"``: file names ``cell_000.tif``, ...; one list of arrays per
        image key of :func:`simulate_cell` (e.g. ``"input"``,
        ``"benchmark"``); ``"drift"``: list of ``(dy, dx)`` (paired
        structures only); ``"metadata"``: dict with ``structure``, ``seed``,
        ``size``, ``n``, ``parameters``, ``drift`` (file name ->
        ``[dy, dx]``) and ``cells`` (per image: name, seed, drift).

    Raises
    ------
    ValueError
        Unknown structure, ``n < 1`` or a bad size.

    Examples
    --------
    >>> data = simulate_dataset("actin", n=2, size=64, seed=0)
    >>> data["names"]
    ['cell_000.tif', 'cell_001.tif']
    >>> len(data["input"]), data["input"][0].shape
    (2, (64, 64))
    """
    _check_structure(structure)
    size = _check_size(size)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    seeds = cell_seeds(seed, n)
    names = [f"cell_{k:03d}.tif" for k in range(n)]
    keys = IMAGE_KEYS[structure]
    data = {"names": names, **{k: [] for k in keys}}
    paired = structure != "nucleus_membrane"
    if paired:
        data["drift"] = []
    iterator = range(n)
    if progress:
        from l2l_helpers.course.progress import progress as _progress

        iterator = _progress(iterator, desc=f"simulating {structure}", unit="cell")
    cells_meta = []
    for k in iterator:
        cell = simulate_cell(structure, size=size, seed=seeds[k])
        for key in keys:
            data[key].append(cell[key])
        entry = {"name": names[k], "seed": seeds[k]}
        if paired:
            data["drift"].append(cell["drift"])
            entry["drift"] = [cell["drift"][0], cell["drift"][1]]
        cells_meta.append(entry)
    data["metadata"] = {
        "structure": structure,
        "seed": seed,
        "size": size,
        "n": n,
        "n_average": N_AVERAGE if paired else None,
        "max_drift": MAX_DRIFT if paired else None,
        "drift_convention": (
            "scipy.ndimage.shift(input_repeat, drift) lines up with input; "
            "= phase_cross_correlation(reference=input, moving=input_repeat)"
        )
        if paired
        else None,
        "keys": list(keys),
        "parameters": json.loads(json.dumps(PARAMETERS[structure])),
        "drift": {c["name"]: c["drift"] for c in cells_meta} if paired else {},
        "cells": cells_meta,
    }
    return data


def write_dataset(data, out_dir, overwrite=False):
    """Write a simulated dataset as TIFF folders paired by file name.

    Parameters
    ----------
    data : dict
        The output of :func:`simulate_dataset`.
    out_dir : str or Path
        Output folder. It gets one sub-folder per image key (``input/``,
        ``input_repeat/``, ``input_average/``, ``benchmark/``,
        ``ground_truth/``, ``cell_mask/``; or the keys of
        ``nucleus_membrane``) and ``metadata.json``.
    overwrite : bool
        Write into a folder that already holds files: the files that the
        previous ``write_dataset`` into it recorded (in
        ``l2l_manifest.json``, see :func:`l2l_helpers.data.io.open_output`) are
        removed first, so the folder never mixes two datasets; nothing else
        is deleted. Default False.

    Returns
    -------
    Path
        The output folder.

    Raises
    ------
    FileExistsError
        If ``out_dir`` is not empty and ``overwrite`` is False; or, with
        ``overwrite``, if an image sub-folder (or ``metadata.json``) holds a
        file that the previous run did not write (named; nothing is deleted
        or written), or the folder was written by another command.
    ValueError
        If ``data`` lacks the names or images.

    Examples
    --------
    >>> data = simulate_dataset("pxn", n=2, size=64, seed=0)
    >>> write_dataset(data, "data/pxn")  # doctest: +SKIP
    PosixPath('data/pxn')
    """
    from l2l_helpers.data.io import open_output

    if "names" not in data or "metadata" not in data:
        raise ValueError("data must be the output of simulate_dataset (needs 'names' and 'metadata')")
    structure = data["metadata"].get("structure")
    keys = IMAGE_KEYS.get(structure) or [k for k in data if k not in ("names", "drift", "metadata")]
    for key in keys:
        if key not in data or len(data[key]) != len(data["names"]):
            raise ValueError(f"data[{key!r}] is missing or does not have one image per name")
    with open_output(out_dir, "simulate", overwrite=overwrite, owned=[*keys, "metadata.json"]) as out:
        for key in keys:
            for name, image in zip(data["names"], data[key]):
                out.write_image(f"{key}/{name}", np.asarray(image).astype(np.float32))
        out.write_json("metadata.json", data["metadata"])
        out.close(structure=structure, n=len(data["names"]))
    return Path(out.path)
