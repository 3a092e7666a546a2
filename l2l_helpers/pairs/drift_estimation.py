"""Estimating the drift between two images of the same field.

The two images of a label2label or noise2noise pair are acquired one after
the other, so the sample (or the stage) has moved a little in between. This
module estimates the shift with one of two methods
(:mod:`l2l_helpers.pairs.drift` applies it to pairs and folders):

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
    share (see :func:`phase_shift`). Faster, sub-pixel and not limited to a
    search range (speed and accuracy on the simulated cells:
    ``benchmarks/results.md``, section Drift).

Convention (scikit-image's, everywhere in this package, including the
simulator's metadata): a shift ``(dy, dx)`` is the shift that registers the
moving image onto the reference, i.e. ``scipy.ndimage.shift(moving, (dy, dx))``
lines up with ``reference``.

How the SSIM search is computed
-------------------------------
Instead of calling :func:`skimage.metrics.structural_similarity` separately
for 100 patches and 121 shifts (12,100 calls), this module computes, for each
shift, the SSIM map of the whole (smoothed, overlapping) image pair once and
averages it over the pixels that skimage's per-patch SSIM would average (each
patch minus the 5 px border that skimage crops). Because the Gaussian window
(radius 5 px) of every such pixel lies entirely inside its patch, this gives
the same number as the per-patch computation (up to floating-point
rounding), not an approximation (``tests/test_drift.py`` checks it against
skimage). Local means and variances of each image are filtered once; only
the cross term is filtered per shift, on the bounding box of the patches.

Patches are drawn with CSBDeep's ``no_background_patches`` filter and the
valid-centre rule of ``sample_patches_from_multiple_stacks``, but with a
seeded :class:`numpy.random.Generator` (CSBDeep's own sampler uses NumPy's
global random state), so the same seed gives the same result.

Examples
--------
>>> from scipy import ndimage as ndi
>>> ref = ndi.gaussian_filter(np.random.default_rng(0).random((96, 96)), 2)
>>> estimate_drift(ref, np.roll(ref, (2, -1), axis=(0, 1)), method="ssim", n_patches=10, patch_size=30)
(-2.0, 1.0)
"""

from __future__ import annotations

import math
import warnings

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
    ref, mov = _check_pair(reference, moving)
    max_shift = int(max_shift)
    if max_shift < 0:
        raise ValueError(f"max_shift must be non-negative, got {max_shift}")
    if patch_size < 2 * _SSIM_PAD + 1:
        raise ValueError(f"patch_size must be at least {2 * _SSIM_PAD + 1} (the SSIM window), got {patch_size}")
    ref = _smoothed_scaled(ref, smooth_sigma)
    mov = _smoothed_scaled(mov, smooth_sigma)
    corners = sample_patch_corners(
        ref, patch_size=patch_size, n_patches=n_patches, margin=max_shift, seed=seed, threshold=threshold
    )
    weight, bounds = _patch_weights(corners, ref.shape, max_shift, patch_size)
    return _mean_ssim_per_shift(ref, mov, weight, bounds, max_shift)


def _smoothed_scaled(image, sigma):
    """The image as float64, smoothed (Gaussian ``sigma``, 0: none) and scaled to its 1st-99.8th percentiles."""
    from scipy import ndimage as ndi

    image = image.astype(np.float64)
    if sigma:
        image = ndi.gaussian_filter(image, sigma)
    return normalize(image, 1.0, 99.8)


def _patch_weights(corners, shape, max_shift, patch_size):
    """How many patch interiors cover each pixel of the interior ``[m:h-m, m:w-m]``.

    Cropped to the bounding box of the covered pixels plus the SSIM window
    radius, returned with that box ``(r0, r1, c0, c1)`` in interior coordinates.
    """
    m = max_shift
    h, w = shape
    hi, wi = h - 2 * m, w - 2 * m
    weight = np.zeros((hi, wi))
    p, q = _SSIM_PAD, patch_size - _SSIM_PAD
    for r, c in corners - m:
        weight[r + p : r + q, c + p : c + q] += 1.0
    rows = np.nonzero(weight.any(axis=1))[0]
    cols = np.nonzero(weight.any(axis=0))[0]
    r0, r1 = max(rows[0] - p, 0), min(rows[-1] + p + 1, hi)
    c0, c1 = max(cols[0] - p, 0), min(cols[-1] + p + 1, wi)
    return weight[r0:r1, c0:c1], (r0, r1, c0, c1)


def _mean_ssim_per_shift(ref, mov, weight, bounds, max_shift):
    """The weighted mean of the SSIM map over the box, for every integer shift of ``mov``."""
    from scipy import ndimage as ndi

    def gauss(x):
        return ndi.gaussian_filter(x, _SSIM_SIGMA, truncate=_SSIM_TRUNCATE, mode="reflect")

    m = max_shift
    r0, r1, c0, c1 = bounds
    total = weight.sum()
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
        # shrink the area (centred) to FFT-friendly lengths: an FFT of a prime length is slow
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
