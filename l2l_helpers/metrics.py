"""Image-quality metrics of a restoration against a reference image.

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
* MS-SSIM is computed by :func:`l2l_helpers.losses.ms_ssim` (value identical
  to ``tf.image.ssim_multiscale``), with the filter size the loss of the same
  name would use for a patch as large as the image
  (:func:`l2l_helpers.losses.loss_settings`): 11 px for 3 scales and 7 px
  for 5 scales on images of 97 px or more, smaller on smaller images.
* Identical images have PSNR ``inf``; JSON files store it as ``null``.

Examples
--------
>>> from l2l_helpers.metrics import evaluate_pair
>>> scores = evaluate_pair(prediction, target)  # doctest: +SKIP
>>> scores["ssim"]  # doctest: +SKIP
0.87
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .io import ImageError, check_image, load_pairs

__all__ = [
    "METRICS",
    "DATA_RANGE",
    "HIGHER_IS_BETTER",
    "normalize_to_target",
    "evaluate_pair",
    "evaluate_images",
    "evaluate_folders",
    "format_table",
    "save_json",
    "peak_width",
]

#: Metric names, in the order of the paper's Table 1.
METRICS = ("psnr", "nrmse", "ssim", "ms3", "ms5")

#: Whether a larger value means a better restoration.
HIGHER_IS_BETTER = {"psnr": True, "nrmse": False, "ssim": True, "ms3": True, "ms5": True}

#: Data range of the normalised reference (PSNR, SSIM, MS-SSIM).
DATA_RANGE = 1.0

_LABELS = {"psnr": "PSNR", "nrmse": "NRMSE", "ssim": "SSIM", "ms3": "3S-SSIM", "ms5": "5S-SSIM"}


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
    way and then scaled and shifted (``a * prediction + b``) to minimise the
    squared error to the normalised target, like ``norm_minmse`` in the
    CSBDeep / CARE example notebooks (which also subtracts the means; here
    the offset is kept so that the images stay in the target's range).

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
        The prediction, scaled onto the target (constant if the prediction
        is constant; a negative scale if it is anti-correlated).
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
    from csbdeep.utils import normalize

    prediction = _as_2d(prediction, "prediction")
    target = check_image(np.asarray(target).squeeze() if np.ndim(target) == 3 else target, name="target", ndim=2)
    if prediction.shape != target.shape:
        raise ValueError(f"prediction and target differ in shape: {prediction.shape} and {target.shape}")
    t = normalize(target, pmin, pmax, clip=False, dtype=np.float64)
    p = normalize(prediction, pmin, pmax, clip=False, dtype=np.float64)
    pc = p - p.mean()
    var = float(np.mean(pc * pc))
    scale = float(np.mean(pc * (t - t.mean()))) / var if var > 0 else 0.0
    offset = float(t.mean()) - scale * float(p.mean())
    return (scale * p + offset).astype(np.float32), t.astype(np.float32)


def _ms_ssim_numpy(prediction, target, name):
    from .losses import loss_settings, ms_ssim

    settings = loss_settings(name, min(target.shape))
    value = ms_ssim(target[None, :, :, None], prediction[None, :, :, None], weights=settings["weights"],
                    max_val=DATA_RANGE, filter_size=settings["filter_size"],
                    filter_sigma=settings["filter_sigma"], k1=settings["k1"], k2=settings["k2"])
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
        ``psnr`` (dB, ``inf`` for identical images), ``nrmse`` (0 is
        perfect), ``ssim``, ``ms3``, ``ms5`` (1 is perfect), as floats.

    Raises
    ------
    ImageError, ValueError
        Bad images (see :func:`normalize_to_target`), or an image too small
        for 5-scale MS-SSIM (at least 33 px per side).

    Examples
    --------
    >>> t = np.random.default_rng(0).random((64, 64))
    >>> evaluate_pair(t, t)["ssim"]
    1.0
    """
    from skimage.metrics import normalized_root_mse, peak_signal_noise_ratio, structural_similarity

    p, t = normalize_to_target(prediction, target, pmin, pmax)
    mse = float(np.mean((t.astype(np.float64) - p) ** 2))
    psnr = math.inf if mse == 0 else float(peak_signal_noise_ratio(t, p, data_range=DATA_RANGE))
    ssim = float(structural_similarity(t, p, gaussian_weights=True, sigma=1.5, win_size=11,
                                       use_sample_covariance=False, data_range=DATA_RANGE))
    return {
        "psnr": psnr,
        "nrmse": float(normalized_root_mse(t, p)),
        "ssim": ssim,
        "ms3": _ms_ssim_numpy(p, t, "ms3"),
        "ms5": _ms_ssim_numpy(p, t, "ms5"),
    }


def _mean_scores(rows):
    return {m: float(np.mean([r[m] for r in rows])) for m in METRICS}


def evaluate_images(predictions, targets, names=None, progress=False):
    """Score several restorations against their references.

    Parameters
    ----------
    predictions, targets : sequence of array_like, 2-D
        Images in matching order (pairs of equal shape).
    names : sequence of str, optional
        One name per pair (default ``image_000``, ``image_001``, ...).
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict
        ``{"images": [{"name", "psnr", "nrmse", "ssim", "ms3", "ms5"}, ...],
        "mean": {"psnr", "nrmse", "ssim", "ms3", "ms5"}}``.

    Raises
    ------
    ValueError
        If the numbers of predictions, targets and names differ, or a pair
        is unusable (the message names the image).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = [rng.random((64, 64)) for _ in range(2)]
    >>> res = evaluate_images(t, t, names=["a", "b"])
    >>> [r["name"] for r in res["images"]], res["mean"]["nrmse"]
    (['a', 'b'], 0.0)
    """
    predictions, targets = list(predictions), list(targets)
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions but {len(targets)} targets")
    if not predictions:
        raise ValueError("no images to evaluate")
    names = [f"image_{i:03d}" for i in range(len(targets))] if names is None else [str(n) for n in names]
    if len(names) != len(targets):
        raise ValueError(f"{len(names)} names for {len(targets)} images")
    from tqdm.auto import tqdm

    rows = []
    for name, pred, target in tqdm(list(zip(names, predictions, targets)), desc="evaluate", disable=not progress):
        try:
            scores = evaluate_pair(pred, target)
        except ValueError as exc:  # ImageError is a ValueError
            raise type(exc)(f"{name}: {exc}") from exc
        rows.append({"name": name, **scores})
    return {"images": rows, "mean": _mean_scores(rows)}


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
        Output of :func:`evaluate_images` or :func:`evaluate_folders`.
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
    >>> save_json(evaluate_images([t], [t]), "results/eval.json")  # doctest: +SKIP
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (refusing to overwrite it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_json_safe(results), indent=2, allow_nan=False) + "\n")
    return path


def evaluate_folders(pred_dir, target_dir, json_path=None, overwrite=False, progress=True):
    """Score a folder of restorations against a folder of references.

    Images are paired by file name with :func:`l2l_helpers.io.load_pairs`.

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

    Returns
    -------
    dict
        ``{"images": [{"name", "psnr", "nrmse", "ssim", "ms3", "ms5"}, ...],
        "mean": {...}}`` with file names as names.

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
        jp, td = Path(json_path).resolve(), Path(target_dir).resolve()
        if td in jp.parents:
            raise ValueError(f"{json_path}: do not write results into the reference folder {target_dir}")
        if Path(json_path).exists() and not overwrite:
            raise FileExistsError(f"{json_path}: already exists (refusing to overwrite it)")
    names, (predictions, targets) = load_pairs(pred_dir, target_dir, ndim=2)
    results = evaluate_images(predictions, targets, names=names, progress=progress)
    if json_path is not None:
        save_json(results, json_path, overwrite=overwrite)
    return results


def format_table(results_by_name, metrics=METRICS, digits=3, header="image"):
    """Format scores as a plain-text table (one row per image or method).

    Parameters
    ----------
    results_by_name : dict or list
        ``{row_name: scores}`` where ``scores`` is a metric dict or a result
        of :func:`evaluate_images` (its mean is used); or the ``"images"``
        list of such a result.
    metrics : sequence of str
        Columns.
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
    rows = []
    for name, scores in results_by_name.items():
        if "mean" in scores:
            scores = scores["mean"]
        rows.append([str(name)] + [f"{scores[m]:.{digits}f}" for m in metrics])
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
