"""Estimating and correcting the drift between two images of the same field.

The two images of a label2label or noise2noise pair are acquired one after
the other, so the sample (or the stage) has moved a little in between. Before
training, the pair must be aligned pixel by pixel. This module estimates the
shift with one of two methods and applies it:

``"ssim"``
    the method of the label2label paper: both images are smoothed with a
    Gaussian (sigma 2 px); 100 random 60x60 patches are taken from
    non-background areas of the reference (CSBDeep's ``no_background_patches``
    filter); every integer shift within +-``max_shift`` px is tried, and the
    shift with the highest mean SSIM (Gaussian window, sigma 1.5, 11 taps) over
    the patches wins. Integer shifts only.
``"phase"``
    sub-pixel cross-correlation (:func:`skimage.registration.phase_cross_correlation`,
    upsample factor 100) of the lightly smoothed images, first coarse (Hann
    window against border effects), then refined on the area both images
    share (see :func:`phase_shift`). Faster, accurate to a few hundredths of a
    pixel on the simulated actin, tubulin and paxillin cells, and not limited
    to a search range.

Convention (scikit-image's, everywhere in this package, including the
simulator's metadata): a shift ``(dy, dx)`` is the shift that registers the
moving image onto the reference, i.e. ``scipy.ndimage.shift(moving, (dy, dx))``
lines up with ``reference``.

How the SSIM search is computed
-------------------------------
Computing :func:`skimage.metrics.structural_similarity` separately for 100
patches and 121 shifts (12,100 calls of about 1-2 ms) takes 10-20 s per image
pair on 2 CPU cores. This module
computes, for each shift, the SSIM map of the whole (smoothed, overlapping)
image pair once and averages it over the pixels that skimage's per-patch SSIM
would average (each patch minus the 5 px border that skimage crops). Because
the Gaussian window (radius 5 px) of every such pixel lies entirely inside its
patch, this gives the same number as the per-patch computation (up to
floating-point rounding), not an approximation (``tests/test_drift.py``
checks it against skimage). Local means and variances of each image are
filtered once; only the cross term is filtered per shift, on the bounding box
of the patches. A 256x256 pair takes about 0.1-0.3 s.

Patches are drawn with CSBDeep's ``no_background_patches`` filter and the
valid-centre rule of ``sample_patches_from_multiple_stacks``, but with a
seeded :class:`numpy.random.Generator` (CSBDeep's own sampler uses NumPy's
global random state), so the same seed gives the same result.
"""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ImageError, check_image
from l2l_helpers.training.prepare import normalize

__all__ = [
    "METHODS",
    "DriftRangeWarning",
    "estimate_drift",
    "phase_shift",
    "ssim_scores",
    "sample_patch_corners",
    "common_area",
    "apply_drift",
    "register_pair",
    "correct_folders",
    "read_shifts",
    "misalignment_blur",
    "evaluate_methods",
    "accuracy_table",
]

#: Drift estimation methods understood by :func:`estimate_drift`.
METHODS = ("phase", "ssim")

# SSIM settings of the paper (Wang et al. 2004 / skimage with gaussian_weights=True).
_SSIM_SIGMA = 1.5
_SSIM_TRUNCATE = 3.5
_SSIM_PAD = int(_SSIM_TRUNCATE * _SSIM_SIGMA + 0.5)  # 5 px: radius of the 11-tap window
_K1, _K2 = 0.01, 0.03


class DriftRangeWarning(UserWarning):
    """The best SSIM shift lies on the border of the search range.

    The true drift may be larger than ``max_shift``; search a wider range.
    """


def _check_pair(reference, moving):
    ref = check_image(reference, name="reference image")
    mov = check_image(moving, name="moving image")
    if ref.shape != mov.shape:
        raise ImageError(
            f"reference image {ref.shape} and moving image {mov.shape} differ in shape; "
            "drift can only be estimated between images of the same size"
        )
    return ref, mov


def _as_generator(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def sample_patch_corners(image, patch_size=60, n_patches=100, margin=0, seed=0, threshold=0.4, percentile=99.9):
    """Pick random patches in non-background areas of an image.

    Uses CSBDeep's patch filter :func:`csbdeep.data.no_background_patches`
    (a patch centre is eligible where the maximum filter of the image exceeds
    ``threshold`` times its ``percentile``-th percentile), as CSBDeep's
    ``sample_patches_from_multiple_stacks`` does, but draws the patches with a
    seeded NumPy generator instead of CSBDeep's global random state.

    Parameters
    ----------
    image : 2-D ndarray
        Image whose foreground decides where patches may lie.
    patch_size : int
        Side of the square patches.
    n_patches : int
        Number of patches. Drawn without replacement when there are enough
        eligible positions, with replacement otherwise.
    margin : int
        Keep every patch at least this far from the image border (so that it
        can be shifted by up to ``margin`` px and stay inside the image).
    seed : int or numpy.random.Generator
        Random seed; the same seed gives the same patches.
    threshold, percentile : float
        Parameters of ``no_background_patches``.

    Returns
    -------
    ndarray of int, shape (n_patches, 2)
        Row and column of the top-left corner of every patch, in ``image``
        coordinates.

    Raises
    ------
    ValueError
        If the image is smaller than ``patch_size + 2 * margin``, or has no
        non-background area to sample from.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> img = np.zeros((100, 100)); img[30:70, 30:70] = 1
    >>> corners = sample_patch_corners(img, patch_size=20, n_patches=5, seed=0)
    >>> corners.shape
    (5, 2)
    """
    from csbdeep.data import no_background_patches

    image = np.asarray(image, dtype=np.float32)
    h, w = image.shape
    if patch_size < 1 or n_patches < 1 or margin < 0:
        raise ValueError(
            f"patch_size ({patch_size}) and n_patches ({n_patches}) must be positive, margin ({margin}) non-negative"
        )
    need = patch_size + 2 * margin
    if h < need or w < need:
        raise ValueError(
            f"image of shape {image.shape} is too small for {patch_size}x{patch_size} patches "
            f"shifted by up to {margin} px (needs at least {need}x{need})"
        )
    inner = image[margin : h - margin, margin : w - margin]
    mask = no_background_patches(threshold=threshold, percentile=percentile)((inner,), (patch_size, patch_size))
    # valid patch centres, as in csbdeep.data.sample_patches_from_multiple_stacks
    half = patch_size // 2
    border = tuple(slice(half, d - patch_size + half + 1) for d in inner.shape)
    rows, cols = np.nonzero(mask[border])
    if rows.size == 0:
        raise ValueError(
            "no non-background area to sample patches from "
            f"(threshold {threshold} x percentile {percentile} of the image)"
        )
    rng = _as_generator(seed)
    pick = rng.choice(rows.size, size=n_patches, replace=rows.size < n_patches)
    # centre in `border` coordinates -> top-left corner in image coordinates
    return np.stack([rows[pick] + margin, cols[pick] + margin], axis=1).astype(int)


def ssim_scores(reference, moving, max_shift=5, n_patches=100, patch_size=60, smooth_sigma=2.0, seed=0, threshold=0.4):
    """Mean SSIM over random foreground patches for every integer shift.

    Both images are smoothed with a Gaussian (``smooth_sigma``) and scaled to
    their 1st-99.8th percentile range (so that ``data_range`` is 1 even when
    the two labels differ in brightness). Patches are drawn from non-background
    areas of the reference (see :func:`sample_patch_corners`), at least
    ``max_shift`` px from the border. For a shift ``(dy, dx)`` the reference
    patch at ``(r, c)`` is compared with the moving patch at
    ``(r - dy, c - dx)``, which is where ``scipy.ndimage.shift(moving, (dy, dx))``
    takes it from. The SSIM is skimage's ``structural_similarity(...,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=1)`` of each patch pair, averaged over the patches; it is
    computed once per shift on the whole image (see the module notes), which
    gives the same value.

    Parameters
    ----------
    reference, moving : 2-D array_like
        The two images, same shape.
    max_shift : int
        Search every integer shift in ``[-max_shift, max_shift]`` along both axes.
    n_patches : int
        Number of random patches.
    patch_size : int
        Side of the square patches (at least 11, the SSIM window).
    smooth_sigma : float
        Sigma of the Gaussian smoothing applied before SSIM (0: none).
    seed : int or numpy.random.Generator
        Seed for the patch positions.
    threshold : float
        Foreground threshold of CSBDeep's ``no_background_patches`` filter.

    Returns
    -------
    ndarray of float64, shape (2 * max_shift + 1, 2 * max_shift + 1)
        ``scores[dy + max_shift, dx + max_shift]`` is the mean SSIM for the
        shift ``(dy, dx)``.

    Raises
    ------
    ImageError
        If an image is unusable or the shapes differ.
    ValueError
        If the images are too small for the patches and the search range.

    Examples
    --------
    >>> from scipy import ndimage as ndi
    >>> rng = np.random.default_rng(1)
    >>> ref = ndi.gaussian_filter(rng.random((120, 120)), 3)
    >>> mov = ndi.shift(ref, (-2, 1), mode="nearest")
    >>> s = ssim_scores(ref, mov, max_shift=3, n_patches=10, patch_size=40)
    >>> np.unravel_index(s.argmax(), s.shape)  # (dy, dx) = (2, -1) -> index (5, 2)
    (np.int64(5), np.int64(2))
    """
    from scipy import ndimage as ndi

    ref, mov = _check_pair(reference, moving)
    max_shift = int(max_shift)
    if max_shift < 0:
        raise ValueError(f"max_shift must be non-negative, got {max_shift}")
    if patch_size < 2 * _SSIM_PAD + 1:
        raise ValueError(f"patch_size must be at least {2 * _SSIM_PAD + 1} (the SSIM window), got {patch_size}")
    ref = ref.astype(np.float64)
    mov = mov.astype(np.float64)
    if smooth_sigma:
        ref = ndi.gaussian_filter(ref, smooth_sigma)
        mov = ndi.gaussian_filter(mov, smooth_sigma)
    ref = normalize(ref, 1.0, 99.8)
    mov = normalize(mov, 1.0, 99.8)

    m = max_shift
    h, w = ref.shape
    corners = sample_patch_corners(
        ref, patch_size=patch_size, n_patches=n_patches, margin=m, seed=seed, threshold=threshold
    )
    # weight of every pixel of the interior [m:h-m, m:w-m]: how many patch interiors cover it
    hi, wi = h - 2 * m, w - 2 * m
    weight = np.zeros((hi, wi))
    p, q = _SSIM_PAD, patch_size - _SSIM_PAD
    for r, c in corners - m:
        weight[r + p : r + q, c + p : c + q] += 1.0
    # restrict all work to the bounding box of the weighted pixels plus the window radius
    rows = np.nonzero(weight.any(axis=1))[0]
    cols = np.nonzero(weight.any(axis=0))[0]
    r0, r1 = max(rows[0] - p, 0), min(rows[-1] + p + 1, hi)
    c0, c1 = max(cols[0] - p, 0), min(cols[-1] + p + 1, wi)
    weight = weight[r0:r1, c0:c1]
    total = weight.sum()

    def gauss(x):
        return ndi.gaussian_filter(x, _SSIM_SIGMA, truncate=_SSIM_TRUNCATE, mode="reflect")

    c1_, c2_ = _K1**2, _K2**2  # data_range = 1
    ux_full, uxx_full = gauss(ref), gauss(ref * ref)
    uy_full, uyy_full = gauss(mov), gauss(mov * mov)
    box = (slice(m + r0, m + r1), slice(m + c0, m + c1))
    x = ref[box]
    ux, vx = ux_full[box], uxx_full[box] - ux_full[box] ** 2
    scores = np.empty((2 * m + 1, 2 * m + 1))
    for dy in range(-m, m + 1):
        for dx in range(-m, m + 1):
            mbox = (slice(m + r0 - dy, m + r1 - dy), slice(m + c0 - dx, m + c1 - dx))
            y = mov[mbox]
            uy = uy_full[mbox]
            vy = uyy_full[mbox] - uy**2
            vxy = gauss(x * y) - ux * uy
            s = ((2 * ux * uy + c1_) * (2 * vxy + c2_)) / ((ux**2 + uy**2 + c1_) * (vx + vy + c2_))
            scores[dy + m, dx + m] = float((weight * s).sum() / total)
    return scores


def _fast_slice(sl):
    from scipy.fft import next_fast_len

    n = sl.stop - sl.start
    m = n
    while m > 1 and next_fast_len(m) != m:
        m -= 1
    start = sl.start + (n - m) // 2
    return slice(start, start + m)


def phase_shift(
    reference, moving, upsample_factor=100, sigma=1.5, window=("tukey", 0.3), normalization=None, max_iter=3
):
    """Sub-pixel shift by cross-correlation, robust to image borders and noise.

    Two stages, both with :func:`skimage.registration.phase_cross_correlation`:

    1. coarse: both images smoothed (Gaussian ``sigma``), mean subtracted and
       multiplied by a Hann window, so that the image borders (where the two
       images differ, and which a plain FFT correlation treats as a jump to
       the opposite border) do not pull the peak towards zero shift; the
       peak is taken to the nearest pixel;
    2. fine: both images cropped to the area they share at that integer
       shift, smoothed, mean subtracted and multiplied by a mild ``window``,
       then correlated with ``upsample_factor``; the residual is added to
       the integer shift. If the residual exceeds 1 px (the coarse stage was
       off), the fine stage is repeated from the new integer shift (at most
       ``max_iter`` times).

    Parameters
    ----------
    reference, moving : 2-D array_like
        The two images, same shape.
    upsample_factor : int
        Precision of the fine stage: ``1 / upsample_factor`` px.
    sigma : float
        Gaussian smoothing of both images (0: none). Suppresses pixel noise,
        which otherwise dominates the high frequencies of the correlation.
    window : str or tuple or None
        Window of the fine stage (:func:`skimage.filters.window`).
    normalization : {None, "phase"}
        Passed to ``phase_cross_correlation``. The default ``None`` (plain
        cross-correlation) is much more robust on noisy images than
        whitening the spectrum (``"phase"``), which gives the noise-dominated
        high frequencies as much weight as the structure.
    max_iter : int
        Maximum number of fine stages.

    Returns
    -------
    tuple of float
        ``(dy, dx)``: ``scipy.ndimage.shift(moving, (dy, dx))`` lines up with
        ``reference``.

    Raises
    ------
    ImageError
        If an image is unusable or the two shapes differ.

    Examples
    --------
    >>> from scipy import ndimage as ndi
    >>> rng = np.random.default_rng(0)
    >>> ref = ndi.gaussian_filter(rng.random((128, 128)), 3)
    >>> mov = ndi.shift(ref, (-1.5, 2.25), mode="nearest")
    >>> dy, dx = phase_shift(ref, mov)
    >>> round(dy, 1), round(dx, 1)
    (1.5, -2.2)
    """
    from scipy import ndimage as ndi
    from skimage.filters import window as make_window
    from skimage.registration import phase_cross_correlation

    ref, mov = _check_pair(reference, moving)
    ref = ref.astype(np.float64)
    mov = mov.astype(np.float64)
    if sigma:
        ref = ndi.gaussian_filter(ref, sigma)
        mov = ndi.gaussian_filter(mov, sigma)

    def prepared(image, win):
        image = image - image.mean()
        return image * make_window(win, image.shape) if win is not None else image

    coarse, _, _ = phase_cross_correlation(
        prepared(ref, "hann"), prepared(mov, "hann"), upsample_factor=1, normalization=normalization
    )
    shift_int = np.round(coarse).astype(int)
    total = shift_int.astype(float)
    for _ in range(max(int(max_iter), 1)):
        try:
            area = common_area(ref.shape, shift_int)
        except ValueError:
            break
        if min(sl.stop - sl.start for sl in area) < 8:
            break
        # shrink the area (centred) to FFT-friendly lengths: a prime length is several times slower
        area = tuple(_fast_slice(sl) for sl in area)
        src = tuple(slice(sl.start - k, sl.stop - k) for sl, k in zip(area, shift_int))
        residual, _, _ = phase_cross_correlation(
            prepared(ref[area], window),
            prepared(mov[src], window),
            upsample_factor=upsample_factor,
            normalization=normalization,
        )
        total = shift_int + residual
        if np.abs(residual).max() <= 1.0:  # the crop was right to within a pixel: done
            break
        shift_int = np.round(total).astype(int)
    return float(total[0]), float(total[1])


def estimate_drift(
    reference,
    moving,
    method="phase",
    seed=0,
    max_shift=5,
    n_patches=100,
    patch_size=60,
    smooth_sigma=2.0,
    upsample_factor=100,
    phase_sigma=1.5,
):
    """Estimate the shift that registers ``moving`` onto ``reference``.

    Parameters
    ----------
    reference, moving : 2-D array_like
        The two images, same shape.
    method : {"phase", "ssim"}
        ``"phase"``: sub-pixel cross-correlation (:func:`phase_shift`).
        ``"ssim"``: the paper's integer search maximising the mean SSIM over
        random foreground patches (see :func:`ssim_scores`).
    seed : int or numpy.random.Generator
        Seed for the patch positions (``"ssim"`` only).
    max_shift : int
        ``"ssim"``: search range, +-``max_shift`` px along each axis. If the
        best shift lies on the border of the range a :class:`DriftRangeWarning`
        is issued (the true drift may be larger). Ignored by ``"phase"``,
        which finds any shift.
    n_patches, patch_size, smooth_sigma : int, int, float
        ``"ssim"`` only: number and size of patches, Gaussian smoothing.
    upsample_factor : int
        ``"phase"`` only: precision is ``1 / upsample_factor`` px.
    phase_sigma : float
        ``"phase"`` only: Gaussian smoothing before the correlation.

    Returns
    -------
    tuple of float
        ``(dy, dx)`` such that ``scipy.ndimage.shift(moving, (dy, dx))``
        lines up with ``reference``. Integers (as floats) for ``"ssim"``.

    Raises
    ------
    ImageError
        If an image is unusable or the two shapes differ.
    ValueError
        Unknown method, or images too small for the ``"ssim"`` search.

    Warns
    -----
    DriftRangeWarning
        ``"ssim"``: the best shift is on the border of the search range.

    Examples
    --------
    >>> from scipy import ndimage as ndi
    >>> rng = np.random.default_rng(0)
    >>> ref = ndi.gaussian_filter(rng.random((128, 128)), 3)
    >>> mov = ndi.shift(ref, (-2, 3), mode="nearest")
    >>> estimate_drift(ref, mov, method="ssim", n_patches=20)
    (2.0, -3.0)
    """
    if method not in METHODS:
        raise ValueError(f"unknown drift method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "phase":
        return phase_shift(reference, moving, upsample_factor=upsample_factor, sigma=phase_sigma)

    scores = ssim_scores(
        reference,
        moving,
        max_shift=max_shift,
        n_patches=n_patches,
        patch_size=patch_size,
        smooth_sigma=smooth_sigma,
        seed=seed,
    )
    iy, ix = np.unravel_index(int(np.argmax(scores)), scores.shape)
    dy, dx = int(iy) - max_shift, int(ix) - max_shift
    if max_shift > 0 and max(abs(dy), abs(dx)) == max_shift:
        warnings.warn(
            f"best SSIM shift ({dy}, {dx}) lies on the border of the search range +-{max_shift} px; "
            "the drift may be larger: increase max_shift or use method='phase'",
            DriftRangeWarning,
            stacklevel=2,
        )
    return float(dy), float(dx)


def common_area(shape, shift):
    """Slices of the area that stays defined after shifting an image.

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``.
    shift : tuple of float
        ``(dy, dx)`` applied with ``scipy.ndimage.shift``.

    Returns
    -------
    tuple of slice
        Rows and columns where the shifted image has data from inside the
        original: ``ceil(|shift|)`` rows/columns are dropped on the side the
        image moved away from.

    Raises
    ------
    ValueError
        If the shift is as large as the image.

    Examples
    --------
    >>> common_area((10, 10), (2, -0.5))
    (slice(2, 10, None), slice(0, 9, None))
    """
    out = []
    for n, s in zip(shape, shift):
        k = int(math.ceil(abs(float(s)) - 1e-9))
        if k >= n:
            raise ValueError(f"shift {tuple(shift)} leaves no common area in an image of shape {tuple(shape)}")
        out.append(slice(k, n) if s > 0 else slice(0, n - k))
    return tuple(out)


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
