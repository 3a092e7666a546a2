"""The cells of the simulator and the structures drawn in them.

:func:`tissue` lays out a main cell near the centre of the field and its
neighbours around it, each with a random outline, nucleus, centrosome and
cytosol. For each cell, a builder of :data:`BUILDERS` draws the structure of
one label pair and returns three maps before blurring: the ground-truth
structure, the expected photons of the input label and those of the target
label. :mod:`l2l_helpers.data.simulate` blurs and images them.

Structures are thin where the real ones are: stress fibres are lines about
one pixel wide (before the PSF), running roughly parallel to the cell's long
axis, most of them in bundles of 2-4 fibres a few pixels apart plus fainter
single fibres, with a thin cortical actin rim along the cell edge; focal
adhesions are short plaques 3-4 pixels wide at the periphery of each cell,
pointing inwards; both paxillin labels contain cytosolic paxillin, in a
different ratio to the adhesions. The numbers of each structure are the
simulator's :data:`l2l_helpers.data.simulate.PARAMETERS`.

Every function draws from the generator it is given, in a fixed order, so a
seed gives the same cell.

Examples
--------
>>> from l2l_helpers.data.simulate import PARAMETERS
>>> rng = np.random.default_rng(0)
>>> p = PARAMETERS["pxn"]
>>> cells = tissue(rng, 96, p["cell_radius"], p["neighbours"], p["packing"])
>>> structure, input_photons, target_photons = BUILDERS["pxn"](rng, 96, cells[0], p)
>>> structure.shape, bool(target_photons.max() > input_photons.max())
((96, 96), True)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from scipy.special import ndtr

__all__ = ["BUILDERS", "tissue"]


# ----------------------------------------------------------------------------
# drawing helpers


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


def tissue(rng, size, cell_radius, neighbours, packing=(0.8, 0.95), texture=0.08):
    """A main cell near the centre and neighbouring cells around it.

    Pixels belong to the cell whose outline is relatively nearest, so
    touching cells share a border and gaps remain where none reaches.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (drawn from in a fixed order).
    size : int
        Width and height of the field in pixels.
    cell_radius : tuple of float
        Range of the cell radii, as fractions of ``size``.
    neighbours : tuple of int
        Range of the number of neighbouring cells (``(0, 0)``: one cell).
    packing : tuple of float
        Range of the distance between the main cell's centre and a
        neighbour's, in sums of their radii (smaller is denser).
    texture : float
        Relative strength of the smooth variations of the cytosol.

    Returns
    -------
    list of dict
        One dict per cell that kept pixels, the main cell first: ``mask``,
        ``nucleus`` and ``cytosol`` (arrays of shape ``(size, size)``),
        ``center``, ``radius``, ``orient``, ``radius_at`` (outline radius as a
        function of the angle), ``centrosome`` and further geometry.

    Examples
    --------
    >>> cells = tissue(np.random.default_rng(0), 64, (0.3, 0.4), (5, 7), (0.6, 0.72))
    >>> len(cells) > 1, cells[0]["mask"].shape
    (True, (64, 64))
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


def _rim(mask):
    """A thin rim along the cell's edge (2 px, smoothed)."""
    return ndi.gaussian_filter((mask & ~_erode(mask, 2)).astype(float), 0.7)


def _actin(rng, size, geo, p):
    """Stress fibres and a cortical rim; the input label adds unspecific antibody puncta."""
    fibres = _stress_fibres(rng, size, geo, p)
    structure = fibres + _cortex(rng, size, geo["mask"], p["cortex_weight"])
    puncta = _antibody_puncta(rng, size, geo, p)
    cyto = geo["cytosol"]
    return structure, _mix(structure, cyto, p["input"], puncta), _mix(structure, cyto, p["target"])


def _stress_fibres(rng, size, geo, p):
    """Thin fibres, roughly parallel to the cell's long axis, spread across its width.

    Most run in bundles of a few fibres a few pixels apart (bright); others
    run alone (faint), and a few cross the others (transverse arcs).
    """
    n_bundles = int(rng.integers(*p["n_bundles"], endpoint=True))
    per_bundle = rng.integers(p["fibres_per_bundle"][0], p["fibres_per_bundle"][1] + 1, n_bundles)
    n_faint = int(rng.integers(*p["n_faint"], endpoint=True))
    main = geo["orient"] + rng.normal(0, 0.3)
    eroded = _erode(geo["mask"], 2)
    centre, across, along = _territory(geo, eroded, main)
    ang, offset, weight = _fibre_directions(rng, p, main, per_bundle, n_faint, across)
    ends = _fibre_chords(rng, centre, along, main, ang, offset)
    return _draw_fibres(rng, size, geo, p, eroded, ang, weight, ends)


def _territory(geo, eroded, main):
    """Centre of the cell's own territory (neighbours overlap its outline) and its extent
    across and along the fibres (5th and 95th percentiles)."""
    cy, cx = geo["center"]
    ty, tx = np.nonzero(eroded)
    if len(ty) == 0:
        ty, tx = np.array([cy]), np.array([cx])
    my, mx = float(ty.mean()), float(tx.mean())
    across = np.percentile((ty - my) * np.cos(main) - (tx - mx) * np.sin(main), [5, 95])
    along = np.percentile((ty - my) * np.sin(main) + (tx - mx) * np.cos(main), [5, 95])
    return (my, mx), across, along


def _fibre_directions(rng, p, main, per_bundle, n_faint, across):
    """Angle, offset across the cell and brightness of every fibre (bundled fibres first)."""
    nb, nf = len(per_bundle), n_faint
    u_lo, u_hi = across
    b_ang = main + rng.normal(0, p["fibre_angle_spread"], nb)
    b_off = rng.uniform(u_lo, u_hi, nb)  # across the cell
    b_w = rng.lognormal(0.0, p["fibre_spread"], nb)
    bundle = np.repeat(np.arange(nb), per_bundle)
    rank = np.concatenate([np.arange(m) - (m - 1) / 2 for m in per_bundle]) if nb else np.zeros(0)
    spacing = rng.uniform(*p["fibre_spacing"], nb)[bundle]
    ang = np.concatenate(
        [b_ang[bundle] + rng.normal(0, 0.02, len(bundle)), main + rng.normal(0, 2 * p["fibre_angle_spread"], nf)]
    )
    offset = np.concatenate([b_off[bundle] + rank * spacing, rng.uniform(u_lo, u_hi, nf)])
    weight = np.concatenate(
        [
            b_w[bundle] * rng.uniform(p["fibre_share"], 1.0, len(bundle)),
            p["faint"] * rng.lognormal(0.0, p["fibre_spread"], nf),
        ]
    )
    transverse = rng.random(len(ang)) < p["p_transverse"]
    ang[transverse] = main + np.pi / 2 + rng.normal(0, 0.2, int(transverse.sum()))
    return ang, offset, weight


def _fibre_chords(rng, centre, along, main, ang, offset):
    """Origin of every fibre and the part ``[t0, t1]`` of its chord through the cell that it covers."""
    my, mx = centre
    v_lo, v_hi = along
    half = max(0.5 * (v_hi - v_lo), 1.0)
    n = len(ang)
    mid = 0.5 * (v_lo + v_hi) + rng.uniform(-0.3, 0.3, n) * half  # along the fibre
    oy = my + offset * np.cos(main) + mid * np.sin(ang)
    ox = mx - offset * np.sin(main) + mid * np.cos(ang)
    t0 = -rng.uniform(0.3, 1.5, n) * half
    t1 = rng.uniform(0.3, 1.5, n) * half
    return oy, ox, t0, t1


def _draw_fibres(rng, size, geo, p, eroded, ang, weight, ends):
    """Splat the fibres inside the cell's territory, with tapered ends and a slowly varying brightness."""
    oy, ox, t0, t1 = ends
    cy, cx = geo["center"]
    ys, xs, idx, t = _segment_points(
        oy + t0 * np.sin(ang), ox + t0 * np.cos(ang), oy + t1 * np.sin(ang), ox + t1 * np.cos(ang)
    )
    rel = np.hypot(ys - cy, xs - cx) / geo["radius_at"](np.arctan2(ys - cy, xs - cx))
    iy, ix = np.round(ys).astype(int), np.round(xs).astype(int)
    ok = (iy >= 0) & (iy < size) & (ix >= 0) & (ix < size) & (rel < p["fibre_reach"])
    ok[ok] = eroded[iy[ok], ix[ok]]
    # brightness varies between fibres and slowly along each fibre
    w = weight[idx]
    phase = rng.uniform(0, 2 * np.pi, len(ang))[idx]
    w = w * (1.0 + p["fibre_modulation"] * np.sin((t1[idx] - t0[idx]) * t / geo["radius"] * 4.0 + phase))
    along = t * (t1 - t0)[idx]  # distance from the fibre's start (pixels)
    w = w * np.clip(np.minimum(along, (t1 - t0)[idx] - along) / 6.0, 0.0, 1.0)  # tapered ends
    fibres = _splat(ys[ok], xs[ok], w[ok], size)
    return ndi.gaussian_filter(fibres, p["fibre_width"]) * p["fibre_gain"]


def _cortex(rng, size, mask, weight):
    """Cortical actin: a thin rim along the cell edge."""
    cortex = _rim(mask) * weight
    cortex *= np.clip(1.0 + 0.3 * _smooth_noise(rng, size, 6.0), 0.2, None)
    return cortex


def _antibody_puncta(rng, size, geo, p):
    """Unspecific bright puncta of the AC-15 antibody, spread over the cytosol (input label)."""
    k = rng.integers(*p["n_puncta"], endpoint=True)
    qy, qx, _, _ = _points_in_cell(rng, geo, k, 0.0, 0.95)
    puncta = _splat(qy, qx, rng.gamma(2.0, 0.5, len(qy)), size)
    return ndi.gaussian_filter(puncta, 1.0) * p["input"]["puncta"]


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
    membrane = _rim(mask) * (1.0 + 0.2 * _smooth_noise(rng, size, 4.0))
    membrane = np.clip(membrane, 0.0, None)
    return nucleus, membrane, _mix(nucleus, 0.0, p["nucleus"]), _mix(membrane, geo["cytosol"], p["membrane"])


#: Builder of each structure: ``builder(rng, size, cell, parameters)`` returns the
#: ground-truth structure, the input label's and the target label's expected photons
#: (``nucleus_membrane``: nucleus, membrane and the photons of each label).
BUILDERS = {
    "actin": _actin,
    "tubulin": _tubulin,
    "caveolae": _caveolae,
    "pxn": _pxn,
    "nucleus_membrane": _nucleus_membrane,
}
