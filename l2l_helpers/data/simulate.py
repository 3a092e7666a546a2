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

The cells and their structures are drawn by :mod:`l2l_helpers.data.structures`;
this module images them (PSF, label background, noise, drift) and writes
datasets.

The intensities and structure densities are calibrated so that the paper's
contrast protocol (:mod:`l2l_helpers.pairs.contrast`) measures the contrast values
reported in the paper for its real datasets
(``l2l_helpers.pairs.contrast.PAPER_CONTRAST``), within the paper's two standard
deviations, for 8 cells of 256 x 256 pixels (``tests/test_simulate.py``). The one
exception is the RMS contrast of the caveolae target (0.22), which no image
clipped to [0, 1] can reach together with its Michelson contrast of 0.98 at a
1 % sample (the simulated value is lower: an expected failure in the tests). The
calibration limits how much structure an image may hold: a target Michelson
contrast of 0.93-0.99 with the protocol's top-10 % sample (after a Gaussian
smoothing of 2 pixels) needs the bright structure to cover at most about 10 %
of the field, so a cell carries only 1-2 bright fibre bundles and a few faint
fibres, and only 4-8 adhesions.

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

from l2l_helpers.data.structures import BUILDERS, tissue

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
    cells = tissue(
        rng, full, p["cell_radius"], p["neighbours"], p.get("packing", (0.8, 0.95)), p.get("cytosol_texture", 0.08)
    )
    maps = [BUILDERS[structure](rng, full, geo, p) for geo in cells]
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
    data["metadata"] = _metadata(structure, seed, size, cells_meta)
    return data


def _metadata(structure, seed, size, cells):
    """The dataset's ``metadata.json``: settings, parameters and, per cell, its name, seed and drift."""
    paired = structure != "nucleus_membrane"
    return {
        "structure": structure,
        "seed": seed,
        "size": size,
        "n": len(cells),
        "n_average": N_AVERAGE if paired else None,
        "max_drift": MAX_DRIFT if paired else None,
        "drift_convention": (
            "scipy.ndimage.shift(input_repeat, drift) lines up with input; "
            "= phase_cross_correlation(reference=input, moving=input_repeat)"
        )
        if paired
        else None,
        "keys": list(IMAGE_KEYS[structure]),
        "parameters": json.loads(json.dumps(PARAMETERS[structure])),
        "drift": {c["name"]: c["drift"] for c in cells} if paired else {},
        "cells": cells,
    }


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
