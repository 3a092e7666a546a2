"""Contrast of fluorescence images, measured with the label2label paper's protocol.

Which of two labels of the same structure should be the network's input and
which its target? The paper found that the label with the higher contrast
makes the better target. Contrast is measured on each image as follows:

1. smooth with a Gaussian filter (sigma 2 pixels) to suppress noise;
2. normalise to the 1st and 99th percentile and clip to [0, 1];
3. the brightest 10 % of the pixels are the *sample* (1 % for the sparse
   caveolae), the rest the *background*;
4. Michelson contrast ``(Is - Ib) / (Is + Ib)`` from the mean sample
   intensity ``Is`` and the mean background intensity ``Ib``;
   RMS contrast: the standard deviation of the normalised image.

``PAPER_CONTRAST`` holds the values the paper reports for its datasets
(mean and standard deviation over the images).

What matters for the pairing is the contrast of the *structure*, so the
Michelson contrast decides which label is the target (:func:`suggest_pairing`).
The RMS contrast is reported next to it but does not decide: a label with a
cytosolic haze has bright cells against a dark outside, which raises its RMS
contrast although its structure stands out less. When the two measures rank
the labels differently, the suggestion says so.

Examples
--------
>>> image = np.zeros((100, 100)); image[:, :10] = 1.0
>>> round(michelson_contrast(image, fraction=0.1, sigma=0), 3)
1.0
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PAPER_CONTRAST",
    "SAMPLE_FRACTION",
    "normalize_percentile",
    "sample_mask",
    "michelson_contrast",
    "rms_contrast",
    "measure_contrast",
    "suggest_pairing",
    "contrast_folders",
    "format_contrast_table",
]

#: Contrast reported in the paper: ``PAPER_CONTRAST[structure][measure][label]``
#: is ``(mean, sd)``; measure is ``"michelson"`` or ``"rms"``, label is
#: ``"input"`` (low-contrast label) or ``"target"`` (high-contrast label).
#: ``labels`` names the antibodies / probes of the paper.
PAPER_CONTRAST = {
    "actin": {
        "labels": {"input": "anti-actin AC-15", "target": "phalloidin"},
        "michelson": {"input": (0.44, 0.08), "target": (0.96, 0.04)},
        "rms": {"input": (0.15, 0.03), "target": (0.19, 0.01)},
    },
    "tubulin": {
        "labels": {"input": "anti-tubulin DM1A", "target": "anti-tubulin YOL1/34"},
        "michelson": {"input": (0.45, 0.14), "target": (0.90, 0.05)},
        "rms": {"input": (0.13, 0.03), "target": (0.17, 0.02)},
    },
    "caveolae": {
        "labels": {"input": "caveolae label 1 (STED)", "target": "caveolae label 2 (STED)"},
        "michelson": {"input": (0.27, 0.05), "target": (0.98, 0.02)},
        "rms": {"input": (0.13, 0.02), "target": (0.22, 0.02)},
    },
    "pxn": {
        "labels": {"input": "paxillin label 1", "target": "paxillin label 2"},
        "michelson": {"input": (0.57, 0.07), "target": (0.99, 0.01)},
        "rms": {"input": (0.15, 0.01), "target": (0.18, 0.02)},
    },
}

#: Sample fraction of the protocol per structure (sparse caveolae: 1 %).
SAMPLE_FRACTION = {"actin": 0.1, "tubulin": 0.1, "caveolae": 0.01, "pxn": 0.1}

_MEASURES = ("michelson", "rms")


def _as_image(image):
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {arr.shape}")
    if arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError("image is empty or contains NaN / infinite values")
    return arr


def _check_fraction(fraction):
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie between 0 and 1 (exclusive), got {fraction!r}")


def normalize_percentile(image, low=1.0, high=99.0, sigma=2.0):
    """Smooth an image and normalise it to its percentiles, clipped to [0, 1].

    Parameters
    ----------
    image : array_like
        2-D image.
    low, high : float
        Percentiles mapped to 0 and 1.
    sigma : float
        Sigma (pixels) of the Gaussian filter applied first; 0 for none.

    Returns
    -------
    ndarray of float64
        The normalised image in [0, 1]. A constant image gives all zeros.

    Raises
    ------
    ValueError
        If the image is not 2-D, is empty or not finite, or
        ``low >= high``.

    Examples
    --------
    >>> img = np.arange(100.0).reshape(10, 10)
    >>> out = normalize_percentile(img, 0, 100, sigma=0)
    >>> float(out.min()), float(out.max())
    (0.0, 1.0)
    """
    from scipy import ndimage as ndi

    if not low < high:
        raise ValueError(f"low percentile ({low}) must be below high percentile ({high})")
    arr = _as_image(image)
    if sigma and sigma > 0:
        arr = ndi.gaussian_filter(arr, sigma)
    lo, hi = np.percentile(arr, [low, high])
    if hi <= lo:
        return np.zeros_like(arr)
    return np.clip((arr - lo) / (hi - lo), 0.0, 1.0)


def sample_mask(normalized, fraction=0.1):
    """Mark the brightest ``fraction`` of the pixels (the protocol's *sample*).

    Exactly ``round(fraction * size)`` pixels (at least one) are marked; ties
    at the top are broken by position, so the split is deterministic.

    Parameters
    ----------
    normalized : array_like
        Image, usually the output of :func:`normalize_percentile`.
    fraction : float
        Fraction of pixels in the sample, between 0 and 1.

    Returns
    -------
    ndarray of bool
        True for the sample, False for the background.

    Examples
    --------
    >>> int(sample_mask(np.arange(100.0).reshape(10, 10), 0.1).sum())
    10
    """
    _check_fraction(fraction)
    arr = np.asarray(normalized, dtype=np.float64)
    k = max(1, int(round(fraction * arr.size)))
    k = min(k, arr.size - 1)
    order = np.argsort(arr, axis=None, kind="stable")
    mask = np.zeros(arr.size, dtype=bool)
    mask[order[-k:]] = True
    return mask.reshape(arr.shape)


def michelson_contrast(image, fraction=0.1, sigma=2.0):
    """Michelson contrast between the brightest pixels and the rest.

    Parameters
    ----------
    image : array_like
        2-D image (raw intensities).
    fraction : float
        Fraction of the brightest pixels taken as the sample (paper: 0.1;
        0.01 for caveolae).
    sigma : float
        Gaussian smoothing before normalisation (paper: 2).

    Returns
    -------
    float
        ``(Is - Ib) / (Is + Ib)`` of the normalised image, between 0 and 1;
        0 for a constant image.

    Raises
    ------
    ValueError
        If the image is not a finite 2-D array or ``fraction`` is not in
        (0, 1).

    Examples
    --------
    >>> img = np.full((10, 10), 1.0); img[0] = 3.0   # 10 % bright pixels
    >>> michelson_contrast(img, fraction=0.1, sigma=0)
    1.0
    """
    _check_fraction(fraction)
    norm = normalize_percentile(image, sigma=sigma)
    sample = sample_mask(norm, fraction)
    i_s = float(norm[sample].mean())
    i_b = float(norm[~sample].mean())
    if i_s + i_b == 0:
        return 0.0
    return (i_s - i_b) / (i_s + i_b)


def rms_contrast(image, sigma=2.0):
    """RMS contrast: standard deviation of the percentile-normalised image.

    Parameters
    ----------
    image : array_like
        2-D image (raw intensities).
    sigma : float
        Gaussian smoothing before normalisation (paper: 2).

    Returns
    -------
    float
        The standard deviation, between 0 and 0.5.

    Raises
    ------
    ValueError
        If the image is not a finite 2-D array.

    Examples
    --------
    >>> img = np.zeros((10, 10)); img[:5] = 1.0
    >>> rms_contrast(img, sigma=0)
    0.5
    """
    return float(normalize_percentile(image, sigma=sigma).std())


def _summary(values):
    values = np.asarray(values, dtype=np.float64)
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return float(values.mean()), sd


def measure_contrast(images, fraction=0.1, names=None, sigma=2.0):
    """Michelson and RMS contrast of a set of images, per image and summarised.

    Parameters
    ----------
    images : sequence of array_like
        2-D images of one label.
    fraction : float
        Sample fraction for the Michelson contrast.
    names : sequence of str, optional
        Image names (default ``image_000``, ...).
    sigma : float
        Gaussian smoothing of the protocol.

    Returns
    -------
    dict
        ``names``, ``michelson`` and ``rms`` (lists of per-image values),
        ``michelson_mean``, ``michelson_sd``, ``rms_mean``, ``rms_sd``
        (the s.d. uses ``ddof=1``; 0 for a single image), ``fraction``,
        ``sigma`` and ``n``.

    Raises
    ------
    ValueError
        No images, names of the wrong length, or a bad image.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> stats = measure_contrast([rng.random((32, 32)) for _ in range(3)])
    >>> stats["n"], len(stats["michelson"])
    (3, 3)
    """
    images = list(images)
    if not images:
        raise ValueError("measure_contrast needs at least one image")
    if names is None:
        names = [f"image_{k:03d}" for k in range(len(images))]
    names = [str(n) for n in names]
    if len(names) != len(images):
        raise ValueError(f"got {len(names)} names for {len(images)} images")
    mich, rms = [], []
    for name, img in zip(names, images):
        try:
            mich.append(michelson_contrast(img, fraction=fraction, sigma=sigma))
            rms.append(rms_contrast(img, sigma=sigma))
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc
    m_mean, m_sd = _summary(mich)
    r_mean, r_sd = _summary(rms)
    return {
        "names": names,
        "michelson": mich,
        "rms": rms,
        "michelson_mean": m_mean,
        "michelson_sd": m_sd,
        "rms_mean": r_mean,
        "rms_sd": r_sd,
        "fraction": float(fraction),
        "sigma": float(sigma),
        "n": len(images),
    }


def _pooled_sd(stats_a, stats_b, measure):
    return float(
        np.sqrt(0.5 * (float(stats_a.get(f"{measure}_sd", 0.0)) ** 2 + float(stats_b.get(f"{measure}_sd", 0.0)) ** 2))
    )


def _per_image(stats_a, stats_b, measure):
    """Per-image values of both labels as arrays, or None if not paired."""
    va, vb = stats_a.get(measure), stats_b.get(measure)
    if not isinstance(va, (list, tuple, np.ndarray)) or not isinstance(vb, (list, tuple, np.ndarray)):
        return None
    if len(va) != len(vb) or len(va) == 0:
        return None
    return np.asarray(va, dtype=np.float64), np.asarray(vb, dtype=np.float64)


def suggest_pairing(stats_a, stats_b, labels=("A", "B")):
    """Suggest which label is the input and which the target.

    The label whose **structure** has the higher contrast is the target (the
    paper's finding). The Michelson contrast decides: it compares the
    brightest pixels (the structure) with all the others, so a cytosolic
    haze or any other background lowers it. The RMS contrast is measured
    and reported but does not decide: it is the spread of all normalised
    intensities, so a label whose haze makes the cells bright against the
    dark outside (or whose illumination is uneven) gains RMS contrast
    without showing the structure any better. When the two measures rank
    the labels differently the result says so (``agree`` is False and the
    message warns). Only when both labels have exactly the same Michelson
    contrast does the RMS contrast break the tie.

    Parameters
    ----------
    stats_a, stats_b : dict
        Outputs of :func:`measure_contrast` for label A and label B (at
        least ``michelson_mean`` and ``rms_mean``; the ``_sd`` values and
        the per-image lists ``michelson`` / ``rms`` are used when present).
    labels : tuple of str
        Names of the two labels, used in the result and the message.

    Returns
    -------
    dict
        ``input`` and ``target`` (label names); ``target_index`` (0 for A,
        1 for B); ``decided_by`` (``"michelson"``, or ``"rms"`` only for a
        Michelson tie); ``agree`` (bool: both measures rank the labels the
        same way); ``ranked_higher`` (per measure: the label it ranks
        higher, None for a tie); ``differences`` (per measure: target minus
        input, in that measure's units); ``standardised`` (per measure: the
        difference divided by the pooled s.d. of the two labels, None
        when the s.d. are 0 or missing); ``paired_wins`` (per measure: in how many
        image pairs the target has the higher value, ``None`` without
        per-image values of equal length); ``n_pairs``; and ``message``
        (one sentence naming the deciding measure and any disagreement).

    Raises
    ------
    ValueError
        If the two labels have the same name.

    Examples
    --------
    >>> low = {"michelson_mean": 0.4, "michelson_sd": 0.1, "rms_mean": 0.12, "rms_sd": 0.02}
    >>> high = {"michelson_mean": 0.9, "michelson_sd": 0.05, "rms_mean": 0.18, "rms_sd": 0.02}
    >>> suggest_pairing(low, high, labels=("DM1A", "YOL1/34"))["target"]
    'YOL1/34'

    A hazy label can have the higher RMS contrast; it still is not the target:

    >>> clean = {"michelson_mean": 0.86, "michelson_sd": 0.1, "rms_mean": 0.20, "rms_sd": 0.01}
    >>> hazy = {"michelson_mean": 0.76, "michelson_sd": 0.1, "rms_mean": 0.26, "rms_sd": 0.01}
    >>> result = suggest_pairing(clean, hazy, labels=("clean", "hazy"))
    >>> result["target"], result["decided_by"], result["agree"]
    ('clean', 'michelson', False)
    """
    a_name, b_name = (str(x) for x in labels)
    if a_name == b_name:
        raise ValueError(f"{a_name}: the two labels have the same name")
    diff, score = {}, {}
    for m in _MEASURES:
        d = float(stats_b[f"{m}_mean"]) - float(stats_a[f"{m}_mean"])
        pooled = _pooled_sd(stats_a, stats_b, m)
        diff[m] = d
        score[m] = d / pooled if pooled > 0 else None
    decided_by = "michelson" if diff["michelson"] != 0 else "rms"
    b_is_target = diff[decided_by] > 0
    target, inp = (b_name, a_name) if b_is_target else (a_name, b_name)
    sign = 1.0 if b_is_target else -1.0
    ranked_higher = {m: (b_name if diff[m] > 0 else a_name) if diff[m] != 0 else None for m in _MEASURES}
    agree = bool(ranked_higher["michelson"] is not None and ranked_higher["michelson"] == ranked_higher["rms"])
    wins, n_pairs = _paired_wins(stats_a, stats_b, b_is_target)
    stats_target, stats_input = (stats_b, stats_a) if b_is_target else (stats_a, stats_b)
    return {
        "input": inp,
        "target": target,
        "target_index": 1 if b_is_target else 0,
        "decided_by": decided_by,
        "agree": agree,
        "ranked_higher": ranked_higher,
        "differences": {m: sign * diff[m] for m in _MEASURES},
        "standardised": {m: None if score[m] is None else sign * score[m] for m in _MEASURES},
        "paired_wins": wins,
        "n_pairs": n_pairs,
        "message": _pairing_message(
            (target, stats_target), (inp, stats_input), decided_by, agree, ranked_higher["rms"], wins, n_pairs
        ),
    }


def _paired_wins(stats_a, stats_b, b_is_target):
    """Per measure, in how many image pairs the target has the higher value (None without per-image values)."""
    wins, n_pairs = {}, None
    for m in _MEASURES:
        values = _per_image(stats_a, stats_b, m)
        if values is None:
            wins[m] = None
            continue
        v_input, v_target = values[::-1] if not b_is_target else values
        n_pairs = int(v_input.size)
        wins[m] = int(np.sum(v_target > v_input))
    return wins, n_pairs


def _pairing_message(target, inp, decided_by, agree, rms_ranked_higher, wins, n_pairs):
    """One sentence: the two labels' contrasts, the deciding measure and any disagreement.

    ``target`` and ``inp`` are ``(label name, stats)``.
    """
    (t_name, m_t), (i_name, m_i) = target, inp
    parts = [
        f"target: {t_name} (Michelson {float(m_t['michelson_mean']):.2f}, RMS {float(m_t['rms_mean']):.2f}); "
        f"input: {i_name} (Michelson {float(m_i['michelson_mean']):.2f}, RMS {float(m_i['rms_mean']):.2f}); "
    ]
    if decided_by == "michelson":
        parts.append("decided by the Michelson contrast (the contrast of the structure)")
        if wins["michelson"] is not None:
            parts.append(f", higher for the target in {wins['michelson']} of {n_pairs} image pairs")
        parts.append("; ")
    else:
        parts.append("both labels have the same Michelson contrast, so the RMS contrast decided; ")
    if agree:
        parts.append("the RMS contrast agrees.")
    elif decided_by == "rms":
        parts.append("the choice is uncertain: look at the images.")
    elif rms_ranked_higher is None:
        parts.append("the RMS contrast is the same for both labels, so the measures disagree: look at the images.")
    else:
        parts.append(
            f"the two measures disagree: the RMS contrast is higher for the input ({i_name}); a cytosolic haze or an"
            " uneven background raises the RMS contrast without showing the structure better, so look at the images."
        )
    return "".join(parts)


def contrast_folders(dir_a, dir_b, fraction=0.1, sigma=2.0):
    """Measure the contrast of two folders of paired images and suggest the pairing.

    Parameters
    ----------
    dir_a, dir_b : str or Path
        Folders of the two labels, with images paired by file name (read
        with :func:`l2l_helpers.data.io.load_pairs`).
    fraction : float
        Sample fraction for the Michelson contrast (0.01 for sparse
        structures such as caveolae).
    sigma : float
        Gaussian smoothing of the protocol.

    Returns
    -------
    dict
        ``folders``: ``{str(dir_a): stats_a, str(dir_b): stats_b}`` (see
        :func:`measure_contrast`); ``suggested_input`` and
        ``suggested_target`` (folder paths as strings); ``decided_by`` (the
        measure that decided, normally ``"michelson"``) and
        ``measures_agree`` (bool: the RMS contrast ranks the folders the same
        way); ``pairing`` (the full result of :func:`suggest_pairing`,
        including its ``message``); ``fraction``.

    Raises
    ------
    l2l_helpers.data.io.ImageError
        Missing folders, unpaired or unreadable files, or pairs of different
        shapes; the message names the file.

    Examples
    --------
    >>> result = contrast_folders("data/actin/input", "data/actin/benchmark")  # doctest: +SKIP
    >>> result["suggested_target"]  # doctest: +SKIP
    'data/actin/benchmark'
    """
    from l2l_helpers.data.io import load_pairs

    _check_fraction(fraction)
    names, (imgs_a, imgs_b) = load_pairs(dir_a, dir_b)
    stats_a = measure_contrast(imgs_a, fraction=fraction, names=names, sigma=sigma)
    stats_b = measure_contrast(imgs_b, fraction=fraction, names=names, sigma=sigma)
    a, b = str(dir_a), str(dir_b)
    if a == b:
        raise ValueError(f"{a}: the two folders are the same")
    pairing = suggest_pairing(stats_a, stats_b, labels=(a, b))
    return {
        "folders": {a: stats_a, b: stats_b},
        "suggested_input": pairing["input"],
        "suggested_target": pairing["target"],
        "decided_by": pairing["decided_by"],
        "measures_agree": pairing["agree"],
        "pairing": pairing,
        "fraction": float(fraction),
    }


def format_contrast_table(measured, paper=None):
    """Format measured contrast next to the paper's values as a text table.

    Parameters
    ----------
    measured : dict
        ``measured[structure]["input"]`` and ``measured[structure]["target"]``
        are outputs of :func:`measure_contrast`.
    paper : dict, optional
        Reference values laid out like :data:`PAPER_CONTRAST` (the default).

    Returns
    -------
    str
        One row per structure and label: measured mean ± s.d. and the
        paper's mean ± s.d. of both measures, and whether the measured mean
        lies within the paper's mean ± 2 s.d.

    Examples
    --------
    >>> st = {"michelson_mean": 0.45, "michelson_sd": 0.05, "rms_mean": 0.14, "rms_sd": 0.02, "n": 4}
    >>> table = format_contrast_table({"actin": {"input": st, "target": st}})
    >>> print(table.splitlines()[0])  # doctest: +NORMALIZE_WHITESPACE
    structure label  n  Michelson measured  paper  RMS measured  paper  within 2 s.d.
    """
    paper = PAPER_CONTRAST if paper is None else paper
    header = (
        f"{'structure':<9} {'label':<6} {'n':>2}  {'Michelson measured':>18}  {'paper':>11}  "
        f"{'RMS measured':>12}  {'paper':>11}  within 2 s.d."
    )
    rows = [header]
    for structure, labels in measured.items():
        for label in ("input", "target"):
            st = labels[label]
            cells, flags = [], []
            for m in _MEASURES:
                cells.append(f"{st[f'{m}_mean']:.2f} ± {st[f'{m}_sd']:.2f}")
                if structure in paper:
                    mu, sd = paper[structure][m][label]
                    cells.append(f"{mu:.2f} ± {sd:.2f}")
                    flags.append("yes" if abs(st[f"{m}_mean"] - mu) <= 2 * sd else "NO")
                else:
                    cells.append("-")
                    flags.append("-")
            rows.append(
                f"{structure:<9} {label:<6} {st.get('n', ''):>2}  {cells[0]:>18}  {cells[1]:>11}  "
                f"{cells[2]:>12}  {cells[3]:>11}  {'/'.join(flags)}"
            )
    return "\n".join(rows)
