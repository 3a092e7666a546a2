"""Reading, checking and writing images, and reading folders of image pairs.

Label2label (like CSBDeep) pairs images by file name: ``input/cell_000.tif``
belongs with ``target/cell_000.tif``. Everything that reads user data goes
through this module, so that bad input always gets the same clear error naming
the file and the problem, and nothing is ever written into an input folder.

Commands write their results through :func:`open_output`, which records
what each run wrote (``l2l_manifest.json``), so that a run with
``overwrite`` replaces exactly the previous run's files and never mixes two
runs or deletes anything else. It lives in :mod:`l2l_helpers.data.outputs`
and is imported here with the other names of that module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2l_helpers.data.outputs import MANIFEST, OutputFolder, check_output, open_output, prepare_output_dir

__all__ = [
    "ImageError",
    "ModelError",
    "IMAGE_SUFFIXES",
    "list_images",
    "read_image",
    "check_image",
    "write_image",
    "match_pairs",
    "load_folder",
    "load_pairs",
    "prepare_output_dir",
    "MANIFEST",
    "OutputFolder",
    "open_output",
    "check_output",
]

#: File endings read as images.
IMAGE_SUFFIXES = (".tif", ".tiff")


class ModelError(ValueError):
    """A model folder that is not a usable model (the message names the folder and the problem)."""


class ImageError(ValueError):
    """An image or folder of images that cannot be used, with the reason.

    The message always names the file (or folder) and the problem.
    """


def list_images(folder, recursive=False):
    """List the TIFF images in a folder, sorted by name.

    Parameters
    ----------
    folder : str or Path
        Folder to list.
    recursive : bool
        Also list the images in its sub-folders (default False). Files and
        folders whose names start with ``.`` are skipped.

    Returns
    -------
    list of Path
        Files ending in ``.tif`` or ``.tiff`` (any case), sorted by path.

    Raises
    ------
    ImageError
        If the folder does not exist, is not a folder, or holds no TIFF.

    Examples
    --------
    >>> files = list_images("data/actin/input")  # doctest: +SKIP
    """
    folder = Path(folder)
    if not folder.exists():
        raise ImageError(f"{folder}: folder does not exist")
    if not folder.is_dir():
        raise ImageError(f"{folder}: not a folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = sorted(
        p
        for p in found
        if p.is_file()
        and p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        where = "this folder or below it" if recursive else "this folder"
        raise ImageError(f"{folder}: no TIFF images (*.tif, *.tiff) in {where}")
    return files


def check_image(image, name="image", ndim=2):
    """Check that an array is a usable image and return it as float32.

    Parameters
    ----------
    image : array_like
        The image.
    name : str
        What to call the image in error messages (usually its file name).
    ndim : int or tuple of int or None
        Allowed number of dimensions; ``None`` allows any.

    Returns
    -------
    ndarray of float32
        The image, converted.

    Raises
    ------
    ImageError
        Wrong dimensionality, non-numeric or complex dtype, empty, NaN or
        infinite values, or constant (a blank image has no structure).

    Examples
    --------
    >>> check_image(np.arange(16).reshape(4, 4)).dtype
    dtype('float32')
    """
    arr = np.asarray(image)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ImageError(f"{name}: unsupported data type {arr.dtype} (expected integer or floating-point pixels)")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ImageError(f"{name}: expected a {want} image, got shape {arr.shape}")
    if arr.size == 0:
        raise ImageError(f"{name}: empty image (shape {arr.shape})")
    arr = arr.astype(np.float32, copy=False)
    finite = np.isfinite(arr)
    if not finite.all():
        n_nan = int(np.isnan(arr).sum())
        n_inf = int((~finite).sum()) - n_nan
        raise ImageError(f"{name}: contains {n_nan} NaN and {n_inf} infinite pixel values")
    if float(arr.max()) == float(arr.min()):
        raise ImageError(f"{name}: constant image (every pixel is {float(arr.min()):g}); nothing to learn from")
    return arr


def read_image(path, ndim=2):
    """Read one TIFF image and check it.

    Parameters
    ----------
    path : str or Path
        The TIFF file.
    ndim : int or tuple of int or None
        Allowed number of dimensions (default 2: one plane, one channel).

    Returns
    -------
    ndarray of float32
        The image.

    Raises
    ------
    ImageError
        If the file is missing or unreadable, or fails :func:`check_image`.

    Examples
    --------
    >>> img = read_image("data/actin/input/cell_000.tif")  # doctest: +SKIP
    """
    import tifffile

    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: file does not exist")
    if not path.is_file():
        raise ImageError(f"{path}: not a file")
    try:
        arr = tifffile.imread(path)
    except Exception as exc:  # tifffile raises many kinds of errors
        raise ImageError(f"{path}: cannot be read as a TIFF image ({type(exc).__name__}: {exc})") from exc
    if ndim == 2 and arr.ndim == 3 and 1 in (arr.shape[0], arr.shape[-1]):
        # a single plane saved with a singleton axis: drop only that axis
        # (squeeze() would also turn a one-pixel-wide image into 1-D)
        arr = arr[0] if arr.shape[0] == 1 else arr[..., 0]
    return check_image(arr, name=str(path), ndim=ndim)


def write_image(path, image, overwrite=False):
    """Write an image as a float32 TIFF, never silently replacing a file.

    Parameters
    ----------
    path : str or Path
        Where to write; parent folders are created.
    image : array_like
        The image.
    overwrite : bool
        Replace an existing file. Default False: an existing file raises.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    FileExistsError
        If the file exists and ``overwrite`` is False.

    Examples
    --------
    >>> write_image("results/cell_000.tif", np.zeros((8, 8)))  # doctest: +SKIP
    """
    import tifffile

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (refusing to overwrite it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, np.asarray(image, dtype=np.float32))
    return path


def match_pairs(*folders):
    """Pair the images of several folders by file name.

    Parameters
    ----------
    *folders : str or Path
        Two or more folders, for example ``input`` and ``target``.

    Returns
    -------
    names : list of str
        The shared file names, sorted.
    paths : list of tuple of Path
        For each name, its path in every folder, in the order given.

    Raises
    ------
    ImageError
        If a folder is missing or empty, or a file has no partner: the
        message lists the unpaired files.

    Examples
    --------
    >>> names, paths = match_pairs("data/input", "data/target")  # doctest: +SKIP
    """
    if len(folders) < 2:
        raise ValueError("match_pairs needs at least two folders")
    listings = [{p.name: p for p in list_images(f)} for f in folders]
    all_names = set().union(*listings)
    problems = []
    for folder, listing in zip(folders, listings):
        missing = sorted(all_names - set(listing))
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            problems.append(f"{folder}: no image named {shown} (present in another folder)")
    if problems:
        raise ImageError("unpaired files; images are paired by file name:\n  " + "\n  ".join(problems))
    names = sorted(all_names)
    return names, [tuple(listing[n] for listing in listings) for n in names]


def load_folder(folder, ndim=2):
    """Read every TIFF image of one folder.

    Parameters
    ----------
    folder : str or Path
        The folder.
    ndim : int or tuple of int or None
        Allowed number of dimensions.

    Returns
    -------
    names : list of str
        File names, sorted.
    images : list of ndarray of float32
        The images, in the same order.

    Examples
    --------
    >>> names, images = load_folder("data/actin/input")  # doctest: +SKIP
    """
    files = list_images(folder)
    return [p.name for p in files], [read_image(p, ndim=ndim) for p in files]


def load_pairs(*folders, ndim=2):
    """Read images paired by file name from two or more folders.

    Parameters
    ----------
    *folders : str or Path
        Two or more folders with the same file names.
    ndim : int or tuple of int or None
        Allowed number of dimensions.

    Returns
    -------
    names : list of str
        The shared file names, sorted.
    stacks : list of list of ndarray
        ``stacks[i][k]`` is image ``k`` of folder ``i``.

    Raises
    ------
    ImageError
        Unpaired files, unreadable files, bad images (see
        :func:`check_image`), or images of one pair with different shapes.

    Examples
    --------
    >>> names, (inputs, targets) = load_pairs("data/input", "data/target")  # doctest: +SKIP
    """
    names, paths = match_pairs(*folders)
    stacks = [[] for _ in folders]
    for name, group in zip(names, paths):
        images = [read_image(p, ndim=ndim) for p in group]
        shapes = {img.shape for img in images}
        if len(shapes) > 1:
            detail = ", ".join(f"{p} {img.shape}" for p, img in zip(group, images))
            raise ImageError(f"{name}: images of one pair differ in shape: {detail}")
        for stack, img in zip(stacks, images):
            stack.append(img)
    return names, stacks
