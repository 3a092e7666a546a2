"""Correcting the drift between the two images of a pair, and checking drift estimates.

The two images of a label2label or noise2noise pair are acquired one after
the other, so the sample (or the stage) has moved a little in between. Before
training, the pair must be aligned pixel by pixel: :func:`estimate_drift`
(from :mod:`l2l_helpers.pairs.drift_estimation`, imported here with the other
names of that module) estimates the shift, :func:`apply_drift` applies it and
crops both images to their common area, :func:`register_pair` does both and
:func:`correct_folders` does it for every pair of two folders.
:func:`evaluate_methods` and :func:`accuracy_table` score the estimates on
pairs with a known drift; :func:`misalignment_blur` shows what a residual
misalignment costs.

Convention (scikit-image's, everywhere in this package, including the
simulator's metadata): a shift ``(dy, dx)`` is the shift that registers the
moving image onto the reference, i.e. ``scipy.ndimage.shift(moving, (dy, dx))``
lines up with ``reference``.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ImageError, check_image
from l2l_helpers.pairs import drift_estimation
from l2l_helpers.pairs.drift_estimation import (
    METHODS,
    DriftRangeWarning,
    _as_generator,
    _check_pair,
    common_area,
    estimate_drift,
    phase_shift,  # noqa: F401 (re-exported: drift_estimation's names are importable from here)
    sample_patch_corners,  # noqa: F401
    ssim_scores,  # noqa: F401
)

__all__ = [
    *drift_estimation.__all__,
    "apply_drift",
    "register_pair",
    "correct_folders",
    "read_shifts",
    "misalignment_blur",
    "evaluate_methods",
    "accuracy_table",
]


def apply_drift(reference, moving, shift, order=3):
    """Shift the moving image onto the reference and crop both to their common area.

    Parameters
    ----------
    reference, moving : 2-D array_like
        The two images, same shape.
    shift : tuple of float
        ``(dy, dx)`` from :func:`estimate_drift` (scikit-image's convention).
    order : int
        Spline order for sub-pixel shifts (``scipy.ndimage.shift``). Integer
        shifts are applied by slicing, so pixel values (and their noise) are
        not interpolated.

    Returns
    -------
    reference_cropped, moving_registered : ndarray of float32
        Same shape, smaller than the input by ``ceil(|dy|)`` rows and
        ``ceil(|dx|)`` columns (the border the shift leaves undefined).

    Raises
    ------
    ImageError
        If an image is unusable or the shapes differ.

    Examples
    --------
    >>> ref = np.arange(36.0).reshape(6, 6)
    >>> mov = np.roll(ref, (-1, 2), axis=(0, 1))
    >>> a, b = apply_drift(ref, mov, (1, -2))
    >>> a.shape, bool(np.array_equal(a, b))
    ((5, 4), True)
    """
    from scipy import ndimage as ndi

    ref, mov = _check_pair(reference, moving)
    dy, dx = (float(s) for s in shift)
    area = common_area(ref.shape, (dy, dx))
    if dy == round(dy) and dx == round(dx):
        iy, ix = int(round(dy)), int(round(dx))
        src = (slice(area[0].start - iy, area[0].stop - iy), slice(area[1].start - ix, area[1].stop - ix))
        registered = mov[src]
    else:
        registered = ndi.shift(mov.astype(np.float64), (dy, dx), order=order, mode="nearest")[area]
    return ref[area].astype(np.float32), np.asarray(registered, dtype=np.float32)


def register_pair(reference, moving, method="phase", seed=0, max_shift=5, **kwargs):
    """Estimate the drift of a pair and correct it.

    Parameters
    ----------
    reference, moving : 2-D array_like
        The two images, same shape.
    method : {"phase", "ssim"}
        See :func:`estimate_drift`.
    seed : int or numpy.random.Generator
        Seed (``"ssim"``).
    max_shift : int
        Search range (``"ssim"``).
    **kwargs
        Further arguments of :func:`estimate_drift`.

    Returns
    -------
    reference_cropped, moving_registered : ndarray of float32
        The aligned pair, cropped to the common area (:func:`apply_drift`).
    shift : tuple of float
        The estimated ``(dy, dx)``.

    Examples
    --------
    >>> from scipy import ndimage as ndi
    >>> ref = ndi.gaussian_filter(np.random.default_rng(0).random((64, 64)), 2)
    >>> a, b, shift = register_pair(ref, np.roll(ref, 3, axis=1))
    >>> [round(s) for s in shift], a.shape == b.shape
    ([0, -3], True)
    """
    shift = estimate_drift(reference, moving, method=method, seed=seed, max_shift=max_shift, **kwargs)
    ref, mov = apply_drift(reference, moving, shift)
    return ref, mov, shift


def correct_folders(
    ref_dir, moving_dir, out_dir, method="phase", overwrite=False, seed=0, max_shift=5, progress=True, **kwargs
):
    """Register every image pair of two folders and write the aligned pairs.

    Images are paired by file name (:func:`l2l_helpers.data.io.load_pairs`). For
    each pair the moving image is shifted onto the reference and both are
    cropped to their common area. Writes ``out_dir/reference/NAME``,
    ``out_dir/moving/NAME`` and ``out_dir/shifts.csv`` (columns ``name,dy,dx``,
    scikit-image's convention, the same as the simulator's metadata). The
    input folders are only read.

    Parameters
    ----------
    ref_dir, moving_dir : str or Path
        Folders of reference and moving images with the same file names.
    out_dir : str or Path
        Output folder; must be empty (or new) unless ``overwrite``, and may
        not be or lie inside an input folder. ``out_dir/l2l_manifest.json``
        records the files written (see :func:`l2l_helpers.data.io.open_output`).
    method : {"phase", "ssim"}
        See :func:`estimate_drift`.
    overwrite : bool
        Allow a non-empty output folder: the files of the previous
        ``correct_folders`` run into it are removed first, so the results of
        two runs never mix; nothing else is deleted.
    seed : int
        Seed of the ``"ssim"`` patch sampling; image ``k`` uses
        ``seed + k`` so results do not depend on the other images.
    max_shift : int
        ``"ssim"`` search range.
    progress : bool
        Show a progress bar over images.
    **kwargs
        Further arguments of :func:`estimate_drift`.

    Returns
    -------
    list of dict
        One ``{"name", "dy", "dx"}`` per image pair, sorted by name.

    Raises
    ------
    ImageError
        Missing, unpaired or unreadable images, or a pair of different shapes.
    FileExistsError
        The output folder is not empty and ``overwrite`` is False; or, with
        ``overwrite``, ``reference/``, ``moving/`` or ``shifts.csv`` holds a
        file that the previous run did not write (named; nothing is deleted
        or written), or the folder was written by another command.
    ValueError
        The output folder is (inside) an input folder, an input folder lies
        inside ``reference/`` or ``moving/``, or an unknown method.

    Examples
    --------
    >>> rows = correct_folders("data/input", "data/input_repeat", "results/aligned")  # doctest: +SKIP
    >>> rows[0]  # doctest: +SKIP
    {'name': 'cell_000.tif', 'dy': 1.23, 'dx': -0.5}
    """
    from l2l_helpers.course.progress import progress as tqdm
    from l2l_helpers.data.io import load_pairs, open_output

    if method not in METHODS:
        raise ValueError(f"unknown drift method {method!r}; choose one of {', '.join(METHODS)}")
    inputs = [ref_dir, moving_dir]
    names, (refs, movs) = load_pairs(ref_dir, moving_dir)
    rows = []
    with open_output(
        out_dir, "drift", overwrite=overwrite, inputs=inputs, owned=["reference", "moving", "shifts.csv"]
    ) as out:
        for k, (name, ref, mov) in enumerate(
            tqdm(list(zip(names, refs, movs)), desc="drift", unit="pair", disable=not progress)
        ):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DriftRangeWarning)
                shift = estimate_drift(ref, mov, method=method, seed=seed + k, max_shift=max_shift, **kwargs)
            for w in caught:
                warnings.warn(f"{Path(moving_dir) / name}: {w.message}", w.category, stacklevel=2)
            a, b = apply_drift(ref, mov, shift)
            out.write_image(f"reference/{name}", a)
            out.write_image(f"moving/{name}", b)
            rows.append({"name": name, "dy": shift[0], "dx": shift[1]})
        with open(out.path_for("shifts.csv"), "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["name", "dy", "dx"])
            for row in rows:
                writer.writerow([row["name"], f"{row['dy']:.4f}", f"{row['dx']:.4f}"])
        out.close(method=method, reference=str(ref_dir), moving=str(moving_dir), n=len(rows))
    return rows


def read_shifts(path):
    """Read a ``shifts.csv`` written by :func:`correct_folders`.

    Parameters
    ----------
    path : str or Path
        The CSV file (or the output folder holding it).

    Returns
    -------
    dict
        File name -> ``(dy, dx)``.

    Raises
    ------
    ImageError
        If the file is missing or lacks the columns ``name,dy,dx``.

    Examples
    --------
    >>> shifts = read_shifts("results/aligned")  # doctest: +SKIP
    """
    path = Path(path)
    if path.is_dir():
        path = path / "shifts.csv"
    if not path.is_file():
        raise ImageError(f"{path}: file does not exist")
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"name", "dy", "dx"} <= set(reader.fieldnames):
            raise ImageError(f"{path}: expected the columns name,dy,dx, got {reader.fieldnames}")
        return {row["name"]: (float(row["dy"]), float(row["dx"])) for row in reader}


def misalignment_blur(image, residual, n_shifts=16, seed=0):
    """What noise2noise can learn when pairs keep a residual misalignment.

    A network trained on pairs whose targets are displaced by a random
    residual shift learns the average of the displaced targets: the image
    convolved with the distribution of residuals. This returns that average
    for residual shifts of length ``residual`` px in ``n_shifts`` random
    directions.

    Parameters
    ----------
    image : 2-D array_like
        A clean image (e.g. the simulator's ground truth).
    residual : float
        Length of the residual shift in pixels.
    n_shifts : int
        Number of random directions averaged.
    seed : int or numpy.random.Generator
        Seed of the directions.

    Returns
    -------
    ndarray of float32
        The average of the shifted images (same shape; borders filled with
        the nearest pixel).

    Examples
    --------
    >>> img = np.zeros((9, 9)); img[4, 4] = 1
    >>> float(misalignment_blur(img, 0.0).max())
    1.0
    >>> float(misalignment_blur(img, 1.0).max()) < 0.5
    True
    """
    from scipy import ndimage as ndi

    img = check_image(image, name="image").astype(np.float64)
    rng = _as_generator(seed)
    angles = rng.uniform(0, 2 * np.pi, int(n_shifts))
    out = np.zeros_like(img)
    for a in angles:
        out += ndi.shift(img, (residual * np.sin(a), residual * np.cos(a)), order=3, mode="nearest")
    return (out / len(angles)).astype(np.float32)


def evaluate_methods(references, movings, true_shifts, methods=METHODS, seed=0, progress=False, **kwargs):
    """Run drift estimation methods on pairs with a known drift; time and score them.

    Parameters
    ----------
    references, movings : sequence of 2-D array_like
        The image pairs.
    true_shifts : sequence of tuple of float
        The known ``(dy, dx)`` per pair (e.g. the simulator's ``"drift"``).
    methods : sequence of str
        Methods of :func:`estimate_drift`.
    seed : int
        Seed of the ``"ssim"`` method; pair ``k`` uses ``seed + k``.
    progress : bool
        Show a progress bar.
    **kwargs
        Further arguments of :func:`estimate_drift`.

    Returns
    -------
    dict
        ``{method: {"true": (n, 2), "estimated": (n, 2), "error": (n,),
        "seconds": (n,)}}``: arrays of the known and estimated shifts, the
        Euclidean error (px) and the wall-clock time of each estimate (s).
        :class:`DriftRangeWarning` is silenced here (the error shows it).

    Raises
    ------
    ValueError
        If the sequences differ in length.

    Examples
    --------
    >>> from scipy import ndimage as ndi
    >>> ref = ndi.gaussian_filter(np.random.default_rng(0).random((128, 128)), 3)
    >>> res = evaluate_methods([ref], [ndi.shift(ref, (-1, 2), mode="nearest")], [(1, -2)], n_patches=20)
    >>> bool(res["ssim"]["error"][0] == 0)
    True
    """
    import time

    from l2l_helpers.course.progress import progress as tqdm

    references, movings, true_shifts = list(references), list(movings), list(true_shifts)
    if not len(references) == len(movings) == len(true_shifts):
        raise ValueError(
            f"got {len(references)} references, {len(movings)} moving images "
            f"and {len(true_shifts)} known shifts; need one of each per pair"
        )
    results = {}
    for method in methods:
        est, secs = [], []
        pairs = list(zip(references, movings))
        for k, (ref, mov) in enumerate(tqdm(pairs, desc=method, unit="pair", disable=not progress)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DriftRangeWarning)
                t0 = time.perf_counter()
                shift = estimate_drift(ref, mov, method=method, seed=seed + k, **kwargs)
                secs.append(time.perf_counter() - t0)
            est.append(shift)
        true = np.asarray(true_shifts, dtype=float).reshape(-1, 2)
        est = np.asarray(est, dtype=float).reshape(-1, 2)
        results[method] = {
            "true": true,
            "estimated": est,
            "error": np.hypot(*(est - true).T),
            "seconds": np.asarray(secs),
        }
    return results


def accuracy_table(results, timing=True):
    """Summarise :func:`evaluate_methods` as a text table.

    Parameters
    ----------
    results : dict
        Output of :func:`evaluate_methods`.
    timing : bool
        Add the mean time per pair (which varies from run to run and machine
        to machine; leave it out where the table must be reproducible).

    Returns
    -------
    str
        One row per method: number of pairs, mean / median / max error (px)
        and, with ``timing``, mean time per pair (ms).

    Examples
    --------
    >>> r = {"phase": {"error": np.array([0.02, 0.04]), "seconds": np.array([0.01, 0.03])}}
    >>> print(accuracy_table(r))
    method  pairs  mean err (px)  median err (px)  max err (px)  time/pair (ms)
    phase       2          0.030            0.030         0.040            20.0
    >>> print(accuracy_table(r, timing=False))
    method  pairs  mean err (px)  median err (px)  max err (px)
    phase       2          0.030            0.030         0.040
    """
    head = ["method", "pairs", "mean err (px)", "median err (px)", "max err (px)"] + (
        ["time/pair (ms)"] if timing else []
    )
    rows = []
    for method, res in results.items():
        err = np.asarray(res["error"], dtype=float)
        rows.append(
            [method, f"{err.size}", f"{err.mean():.3f}", f"{np.median(err):.3f}", f"{err.max():.3f}"]
            + ([f"{1000 * np.mean(res['seconds']):.1f}"] if timing else [])
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))]
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)
