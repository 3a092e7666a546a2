"""Scores of restorations against reference images: :func:`score_restorations`.

:func:`score_restorations` is the one scoring function of the course (the
notebooks, ``l2l evaluate`` and experiments use it): ``{method: images}``
and the references in, ``{method: {"mean": {...}, "images": [...]}}`` out,
which :func:`format_table`, :func:`save_json` and the figures of
:mod:`l2l_helpers.plotting.metrics` take as it is. With a ground truth it
also scores the cytosolic background left and hallucinations
(:mod:`l2l_helpers.scoring.background`).

The label2label paper reports, for each restoration, the peak signal-to-noise
ratio (PSNR), the normalised root-mean-square error (NRMSE), the structural
similarity (SSIM) and the multi-scale SSIM with three and five scales (3S- and
5S-SSIM), always after :func:`normalize_to_target`: both images are
percentile-normalised, then the prediction is scaled and shifted onto the
reference by least squares (as ``norm_minmse`` in the CSBDeep / CARE
examples), so that a restoration is not punished for an arbitrary intensity
scale.

Conventions
-----------
* The reference ("target") is usually the high-contrast label; with simulated
  data it can also be the ground truth.
* Data range: the normalised reference spans about ``[0, 1]`` (0.1th to
  99.9th percentile), so PSNR and SSIM use ``data_range = 1.0``
  (:data:`DATA_RANGE`, the same ``max_val`` as the SSIM losses).
* PSNR and NRMSE come from ``skimage.metrics`` (NRMSE with its default
  ``"euclidean"`` normalisation, ``||reference - prediction|| / ||reference||``);
  SSIM from ``skimage.metrics.structural_similarity`` with a Gaussian window
  (``sigma=1.5``, ``win_size=11``, population covariance), as in Wang et al.
* MS-SSIM is computed by :func:`l2l_helpers.training.losses.ms_ssim` (value identical
  to ``tf.image.ssim_multiscale``), with the filter size the loss of the same
  name would use for a patch as large as the image
  (:func:`l2l_helpers.training.losses.loss_settings`): 11 px for 3 scales and 7 px
  for 5 scales on images of 97 px or more, smaller on smaller images.
* Identical images have PSNR of about 171 dB, not ``inf``: CSBDeep's
  ``normalize_minmse`` adds ``1e-10`` to the variance, which changes the
  other numbers by less than 1e-7 (relative); an infinite value is stored
  as ``null`` in JSON files.

Examples
--------
>>> from l2l_helpers.scoring.metrics import score_restorations
>>> scores = score_restorations({"input": inputs, "L2L": restored}, targets)  # doctest: +SKIP
>>> scores["L2L"]["mean"]["ssim"]  # doctest: +SKIP
0.87
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ImageError, check_image, load_pairs

__all__ = [
    "METRICS",
    "DATA_RANGE",
    "HIGHER_IS_BETTER",
    "EXTRA_SCORES",
    "normalize_to_target",
    "evaluate_pair",
    "score_restorations",
    "evaluate_folders",
    "format_table",
    "save_json",
    "peak_width",
]

#: Metric names, in the order of the paper's Table 1.
METRICS = ("psnr", "nrmse", "ssim", "ms3", "ms5")

#: Whether a larger value means a better restoration.
HIGHER_IS_BETTER = {
    "psnr": True,
    "nrmse": False,
    "ssim": True,
    "ms3": True,
    "ms5": True,
    "background": False,
    "hallucination": False,
}

#: Data range of the normalised reference (PSNR, SSIM, MS-SSIM).
DATA_RANGE = 1.0

_LABELS = {
    "psnr": "PSNR",
    "nrmse": "NRMSE",
    "ssim": "SSIM",
    "ms3": "3S-SSIM",
    "ms5": "5S-SSIM",
    "background": "background",
    "hallucination": "hallucination",
}


def _as_2d(image, name):
    """Check a 2-D image of finite numbers (a constant image is allowed)."""
    arr = np.asarray(image)
    if arr.ndim == 3 and 1 in (arr.shape[0], arr.shape[-1]):
        arr = arr.squeeze()
    try:
        return check_image(arr, name=name, ndim=2)
    except ImageError as exc:
        if "constant image" in str(exc):  # a flat restoration is bad, not invalid
            return arr.astype(np.float32)
        raise


def normalize_to_target(prediction, target, pmin=0.1, pmax=99.9):
    """Normalise a target and map a prediction onto it by least squares.

    The target is percentile-normalised (``pmin`` -> 0, ``pmax`` -> 1) with
    :func:`csbdeep.utils.normalize`; the prediction is normalised the same
    way and then scaled and shifted (``a * prediction + b``) onto the
    normalised target by :func:`csbdeep.utils.normalize_minmse` (the
    ``norm_minmse`` of the CSBDeep / CARE examples), which minimises the
    squared error. The percentile step first makes the prediction's scale
    about 1, so CSBDeep's ``1e-10`` guard against a zero variance changes
    nothing measurable.

    Parameters
    ----------
    prediction : array_like, 2-D
        The restored (or raw) image.
    target : array_like, 2-D
        The reference image (high-contrast label or ground truth).
    pmin, pmax : float
        Percentiles mapped to 0 and 1.

    Returns
    -------
    prediction : ndarray of float32
        The prediction, scaled onto the target (constant, the target's
        mean, if the prediction is constant; a negative scale if it is
        anti-correlated).
    target : ndarray of float32
        The normalised target.

    Raises
    ------
    ImageError
        If an image is not 2-D, holds NaN or infinite values, or the target
        is constant; ValueError if the shapes differ.

    Examples
    --------
    >>> t = np.random.default_rng(0).random((32, 32))
    >>> p, t_n = normalize_to_target(3 * t + 7, t)
    >>> bool(np.allclose(p, t_n, atol=1e-5))
    True
    """
    from csbdeep.utils import normalize, normalize_minmse

    prediction = _as_2d(prediction, "prediction")
    target = check_image(np.asarray(target).squeeze() if np.ndim(target) == 3 else target, name="target", ndim=2)
    if prediction.shape != target.shape:
        raise ValueError(f"prediction and target differ in shape: {prediction.shape} and {target.shape}")
    t = normalize(target, pmin, pmax, clip=False, dtype=np.float64)
    p = normalize(prediction, pmin, pmax, clip=False, dtype=np.float64)
    return normalize_minmse(p, t).astype(np.float32), t.astype(np.float32)


def _ms_ssim_numpy(prediction, target, name):
    from l2l_helpers.training.losses import loss_settings, ms_ssim

    settings = loss_settings(name, min(target.shape))
    value = ms_ssim(
        target[None, :, :, None],
        prediction[None, :, :, None],
        weights=settings["weights"],
        max_val=DATA_RANGE,
        filter_size=settings["filter_size"],
        filter_sigma=settings["filter_sigma"],
        k1=settings["k1"],
        k2=settings["k2"],
    )
    return float(np.asarray(value)[0])


def evaluate_pair(prediction, target, pmin=0.1, pmax=99.9):
    """Score one restoration against its reference with the paper's metrics.

    Parameters
    ----------
    prediction : array_like, 2-D
        The restored (or raw) image.
    target : array_like, 2-D
        The reference image, same shape.
    pmin, pmax : float
        Percentiles for :func:`normalize_to_target`.

    Returns
    -------
    dict
        ``psnr`` (dB; about 171 for identical images), ``nrmse`` (0 is
        perfect), ``ssim``, ``ms3``, ``ms5`` (1 is perfect), as floats.

    Raises
    ------
    ImageError, ValueError
        Bad images (see :func:`normalize_to_target`), or an image too small
        for 5-scale MS-SSIM (at least 33 px per side).

    Examples
    --------
    >>> t = np.random.default_rng(0).random((64, 64))
    >>> round(evaluate_pair(t, t)["ssim"], 6)
    1.0
    """
    from skimage.metrics import normalized_root_mse, peak_signal_noise_ratio, structural_similarity

    p, t = normalize_to_target(prediction, target, pmin, pmax)
    mse = float(np.mean((t.astype(np.float64) - p) ** 2))
    psnr = math.inf if mse == 0 else float(peak_signal_noise_ratio(t, p, data_range=DATA_RANGE))
    ssim = float(
        structural_similarity(
            t, p, gaussian_weights=True, sigma=1.5, win_size=11, use_sample_covariance=False, data_range=DATA_RANGE
        )
    )
    return {
        "psnr": psnr,
        "nrmse": float(normalized_root_mse(t, p)),
        "ssim": ssim,
        "ms3": _ms_ssim_numpy(p, t, "ms3"),
        "ms5": _ms_ssim_numpy(p, t, "ms5"),
    }


#: Scores of :func:`score_restorations` beyond the image-quality metrics, in table order.
EXTRA_SCORES = ("background", "hallucination")


def _ordered_keys(rows):
    present = set().union(*(r.keys() for r in rows)) - {"name"}
    known = [k for k in METRICS + EXTRA_SCORES if k in present]
    return known + sorted(present - set(known))


def _mean_scores(rows):
    return {m: float(np.mean([r[m] for r in rows])) for m in _ordered_keys(rows)}


def _image_list(images, what, n, method=None):
    images = list(images)
    if len(images) != n:
        who = f"{method}: " if method is not None else ""
        raise ValueError(f"{who}{len(images)} {what} for {n} references")
    return images


def score_restorations(
    restorations, references, *, ground_truths=None, cell_masks=None, inputs=None, names=None, progress=False
):
    """Score restorations against references: the one scoring function of the course.

    For every method and image: the paper's image-quality metrics against
    the reference (:func:`evaluate_pair`: ``psnr``, ``nrmse``, ``ssim``,
    ``ms3``, ``ms5``, after the least-squares fit onto the percentile-
    normalised reference); with cell masks, the cytosolic ``background``
    left relative to the structure
    (:func:`l2l_helpers.scoring.background.cytosolic_background`, ``ratio``; 0 is
    none left); with the inputs, the ``hallucination`` score
    (:func:`l2l_helpers.scoring.background.hallucination`: signal put where the
    ground truth has no structure, in excess of the input; 0 is none).

    Parameters
    ----------
    restorations : dict of str to sequence of 2-D array_like
        Method name -> one image per reference (e.g. ``"input"``,
        ``"N2N"``, ``"L2L"``, ``"target"``); dict order is row order.
    references : sequence of 2-D array_like
        What the metrics compare with: the target label or the ground truth.
    ground_truths : sequence of 2-D array_like, optional
        Noise- and background-free images that say where the structure is
        (for ``background`` and ``hallucination``); default: the
        references (score against the ground truth and pass nothing here).
    cell_masks : sequence of 2-D array_like of bool, optional
        Cell mask per image; adds ``background``.
    inputs : sequence of 2-D array_like, optional
        The raw input per image; adds ``hallucination``.
    names : sequence of str, optional
        One name per image (default ``image_000``, ``image_001``, ...).
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict
        ``{method: {"mean": {score: float}, "images": [{"name": str,
        score: float, ...}, ...]}}``, scores in the order ``psnr``,
        ``nrmse``, ``ssim``, ``ms3``, ``ms5``, ``background``,
        ``hallucination``. :func:`format_table`, :func:`save_json` and
        :func:`l2l_helpers.plotting.metrics.plot_metric_bars` /
        :func:`~l2l_helpers.plotting.metrics.plot_metric_table` take it as
        it is; ``result[method]["mean"]["psnr"]`` is one mean.

    Raises
    ------
    ValueError
        If a method, the ground truths, masks, inputs or names do not have
        one image per reference, or a pair is unusable (the message names
        the method and the image).

    Examples
    --------
    >>> from l2l_helpers.data.simulate import simulate_cell
    >>> cells = [simulate_cell("actin", 128, seed=s) for s in (0, 1)]
    >>> truths = [c["ground_truth"] for c in cells]
    >>> scores = score_restorations({"input": [c["input"] for c in cells], "target": [c["benchmark"] for c in cells]},
    ...                             truths, cell_masks=[c["cell_mask"] for c in cells],
    ...                             inputs=[c["input"] for c in cells])
    >>> list(scores["input"]["mean"])
    ['psnr', 'nrmse', 'ssim', 'ms3', 'ms5', 'background', 'hallucination']
    >>> scores["target"]["mean"]["psnr"] > scores["input"]["mean"]["psnr"]
    True
    >>> scores["input"]["mean"]["hallucination"]
    0.0
    """
    from l2l_helpers.course.progress import progress as tqdm
    from l2l_helpers.scoring.background import cytosolic_background, hallucination

    if not isinstance(restorations, dict) or not restorations:
        raise ValueError("restorations must be a non-empty dict {method name: list of images}")
    references = list(references)
    n = len(references)
    if not n:
        raise ValueError("no images to score")
    names = [f"image_{i:03d}" for i in range(n)] if names is None else [str(x) for x in names]
    _image_list(names, "names", n)
    truths = references if ground_truths is None else _image_list(ground_truths, "ground truths", n)
    masks = None if cell_masks is None else _image_list(cell_masks, "cell masks", n)
    raw = None if inputs is None else _image_list(inputs, "inputs", n)
    methods = {str(m): _image_list(images, "images", n, method=m) for m, images in restorations.items()}

    results = {}
    steps = [(m, i) for m in methods for i in range(n)]
    rows = {m: [] for m in methods}
    for method, i in tqdm(steps, desc="scoring", disable=not progress, leave=False):
        img = methods[method][i]
        try:
            row = {"name": names[i], **evaluate_pair(img, references[i])}
            if masks is not None:
                row["background"] = float(
                    cytosolic_background(_as_2d(img, "restoration"), truths[i], masks[i])["ratio"]
                )
            if raw is not None:
                row["hallucination"] = hallucination(img, raw[i], truths[i])
        except ValueError as exc:  # ImageError is a ValueError
            raise type(exc)(f"{method}, {names[i]}: {exc}") from exc
        rows[method].append(row)
    for method in methods:
        results[method] = {"mean": _mean_scores(rows[method]), "images": rows[method]}
    return results


def _score_one(predictions, targets, names=None, progress=False):
    predictions, targets = list(predictions), list(targets)
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions but {len(targets)} targets")
    if not predictions:
        raise ValueError("no images to evaluate")
    try:
        res = score_restorations({"restored": predictions}, targets, names=names, progress=progress)["restored"]
    except ValueError as exc:  # one method: name only the image, as before
        msg = str(exc)
        raise type(exc)(msg[len("restored, ") :] if msg.startswith("restored, ") else msg) from exc
    return {"images": res["images"], "mean": res["mean"]}


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def save_json(results, path, overwrite=False):
    """Write evaluation results as JSON (infinite PSNR as ``null``).

    Parameters
    ----------
    results : dict
        Output of :func:`score_restorations` or :func:`evaluate_folders`.
    path : str or Path
        The JSON file; parent folders are created.
    overwrite : bool
        Replace an existing file (default: refuse).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    FileExistsError
        If the file exists and ``overwrite`` is False.

    Examples
    --------
    >>> save_json(score_restorations({"L2L": restored}, targets), "results/eval.json")  # doctest: +SKIP
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (refusing to overwrite it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_json_safe(results), indent=2, allow_nan=False) + "\n")
    return path


def evaluate_folders(
    pred_dir,
    target_dir,
    json_path=None,
    overwrite=False,
    progress=True,
    *,
    ground_truth_dir=None,
    mask_dir=None,
    input_dir=None,
):
    """Score a folder of restorations against a folder of references.

    Images are paired by file name with :func:`l2l_helpers.data.io.load_pairs`
    and scored by :func:`score_restorations`.

    Parameters
    ----------
    pred_dir : str or Path
        Folder of restored images (TIFF, 2-D).
    target_dir : str or Path
        Folder of reference images with the same file names.
    json_path : str or Path, optional
        Also write the results to this JSON file (not inside ``target_dir``).
    overwrite : bool
        Replace an existing JSON file.
    progress : bool
        Show a progress bar.
    ground_truth_dir : str or Path, optional
        Ground truths (same file names) that say where the structure is,
        for ``background`` and ``hallucination``; default ``target_dir``.
    mask_dir : str or Path, optional
        Cell masks (same file names; non-zero inside the cell): adds
        ``background``.
    input_dir : str or Path, optional
        The raw inputs (same file names): adds ``hallucination``.

    Returns
    -------
    dict
        ``{"images": [{"name", "psnr", "nrmse", "ssim", "ms3", "ms5"}, ...],
        "mean": {...}}`` with file names as names (and ``background``,
        ``hallucination`` when their folders are given).

    Raises
    ------
    ImageError
        Missing or empty folders, unpaired files, unreadable or non-2-D
        images, pairs of different shapes (the message names the file).
    FileExistsError
        If ``json_path`` exists and ``overwrite`` is False.
    ValueError
        If ``json_path`` lies inside ``target_dir``.

    Examples
    --------
    >>> res = evaluate_folders("results/restored", "data/test/target", "results/eval.json")  # doctest: +SKIP
    """
    if json_path is not None:
        jp = Path(json_path).resolve()
        for folder in (pred_dir, target_dir, ground_truth_dir, mask_dir, input_dir):
            if folder is not None and Path(folder).resolve() in jp.parents:
                raise ValueError(f"{json_path}: do not write results into the image folder {folder}")
        if Path(json_path).exists() and not overwrite:
            raise FileExistsError(f"{json_path}: already exists (refusing to overwrite it)")
    extra = {"ground_truths": ground_truth_dir, "cell_masks": mask_dir, "inputs": input_dir}
    extra = {k: v for k, v in extra.items() if v is not None}
    names, stacks = load_pairs(pred_dir, target_dir, *extra.values(), ndim=2)
    kwargs = dict(zip(extra, stacks[2:]))
    if "cell_masks" in kwargs:
        kwargs["cell_masks"] = [np.asarray(m) != 0 for m in kwargs["cell_masks"]]
    res = score_restorations({"restored": stacks[0]}, stacks[1], names=names, progress=progress, **kwargs)
    results = {"images": res["restored"]["images"], "mean": res["restored"]["mean"]}
    if json_path is not None:
        save_json(results, json_path, overwrite=overwrite)
    return results


def format_table(results_by_name, metrics=None, digits=3, header="image"):
    """Format scores as a plain-text table (one row per image or method).

    Parameters
    ----------
    results_by_name : dict or list
        ``{row_name: scores}`` where ``scores`` is a metric dict or one
        method's entry of :func:`score_restorations` (its mean is used), so
        a whole result of :func:`score_restorations` is a table of methods;
        or the ``"images"`` list of such an entry.
    metrics : sequence of str, optional
        Columns (default: every score of the first row, in the order of
        :data:`METRICS` then ``background``, ``hallucination``).
    digits : int
        Decimals shown for every metric.
    header : str
        Title of the first column.

    Returns
    -------
    str
        The table, columns aligned.

    Examples
    --------
    >>> print(format_table({"L1": {"psnr": 20.0, "nrmse": 0.5, "ssim": 0.8, "ms3": 0.9, "ms5": 0.9}}, header="loss"))
    loss    PSNR  NRMSE   SSIM  3S-SSIM  5S-SSIM
    L1    20.000  0.500  0.800    0.900    0.900
    """
    if isinstance(results_by_name, list):
        results_by_name = {r["name"]: r for r in results_by_name}
    means = {name: scores["mean"] if "mean" in scores else scores for name, scores in results_by_name.items()}
    if metrics is None:
        metrics = _ordered_keys(list(means.values())[:1]) if means else METRICS
    rows = []
    for name, scores in means.items():
        rows.append([str(name)] + [f"{scores[m]:.{digits}f}" if scores[m] is not None else "nan" for m in metrics])
    head = [header] + [_LABELS.get(m, m) for m in metrics]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = []
    for r in [head] + rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def peak_width(profile):
    """Full width at half maximum of the highest peak of a line profile.

    Half maximum is half-way between the lowest and the highest value of
    the profile; the crossings are linearly interpolated. A sharper image
    of a fibre gives a narrower peak.

    Parameters
    ----------
    profile : 1-D array_like
        Intensities along a line (one value per pixel, e.g. from
        ``skimage.measure.profile_line``).

    Returns
    -------
    float
        The width in samples; ``nan`` if the profile is flat or the peak
        does not fall below half maximum on both sides.

    Examples
    --------
    >>> x = np.arange(41.0)
    >>> round(peak_width(np.exp(-(x - 20) ** 2 / (2 * 3.0 ** 2))), 2)  # 2.355 sigma
    7.09
    """
    p = np.asarray(profile, dtype=float).ravel()
    if p.size < 3 or not np.isfinite(p).all() or p.max() == p.min():
        return math.nan
    half = (p.max() + p.min()) / 2
    i = int(np.argmax(p))
    left = i
    while left > 0 and p[left] > half:
        left -= 1
    right = i
    while right < p.size - 1 and p[right] > half:
        right += 1
    if p[left] > half or p[right] > half:
        return math.nan
    x_left = left + (half - p[left]) / (p[left + 1] - p[left])
    x_right = right - (half - p[right]) / (p[right - 1] - p[right])
    return float(x_right - x_left)
