"""Folders of downloaded images turned into ``input/`` + ``target/`` pair folders.

Real datasets rarely come as two folders of the same file names. The paper's
dataset, for example, tells the two labels apart by a label token in its
file or folder names (:func:`pairs_by_token`); other data come as
two-channel stacks (:func:`pairs_from_channels`). Both write the layout that
``l2l simulate`` writes and that :func:`l2l_helpers.data.io.load_pairs`
reads: ``output/input/NAME.tif``, ``output/target/NAME.tif`` (float32) and
``output/sources.csv``, through :func:`l2l_helpers.data.io.open_output`.
Nothing is ever written into the source.

Examples
--------
>>> import tempfile, tifffile
>>> root = Path(tempfile.mkdtemp())
>>> stack = np.stack([np.eye(8), np.arange(64.0).reshape(8, 8)])
>>> (root / "raw").mkdir()
>>> tifffile.imwrite(root / "raw" / "cell.tif", stack)
>>> pairs = pairs_from_channels(root / "raw" / "cell.tif", root / "pairs", input_channel=1, target_channel=0)
>>> pairs.names, sorted(p.name for p in pairs.output.iterdir())
(['cell.tif'], ['input', 'l2l_manifest.json', 'sources.csv', 'target'])
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from l2l_helpers.data import io

__all__ = ["PairFolders", "pairs_by_token", "pairs_from_channels"]

#: What the pair writers own in their output folder (see :func:`l2l_helpers.data.io.open_output`).
_PAIRS_OWNED = ("input", "target", "sources.csv")

#: Stands for the label token in the paths that :func:`pairs_by_token` matches.
_MARKER = "\x00"


@dataclass
class PairFolders:
    """Pair folders written by :func:`pairs_by_token` or :func:`pairs_from_channels`.

    Attributes
    ----------
    output : Path
        The output folder (holds ``input/``, ``target/`` and ``sources.csv``).
    input_dir, target_dir : Path
        ``output / "input"`` and ``output / "target"``.
    names : list of str
        File names of the pairs (the same in both folders).
    sources : dict
        For each name, the source(s) it came from, as text.
    """

    output: Path
    input_dir: Path
    target_dir: Path
    names: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)


def _pair_name(rel_parts):
    parts = [re.sub(r"[_\-. ]{2,}", "_", p).strip("_-. ") for p in rel_parts]
    parts = [p for p in parts if p]
    stem = "_".join(parts) or "image"
    return stem + ".tif"


def _check_pairs_output(output, inputs, overwrite):
    """Fail before reading any image if the output folder cannot be written."""
    io.check_output(output, "pairs", overwrite=overwrite, inputs=inputs, owned=_PAIRS_OWNED)


def _write_pairs(output, pairs, inputs, overwrite):
    """pairs: list of (name, input_image, target_image, source_text)."""
    with io.open_output(output, "pairs", overwrite=overwrite, inputs=inputs, owned=_PAIRS_OWNED) as out:
        result = PairFolders(out.path, out.path / "input", out.path / "target")
        for name, img_in, img_target, _ in pairs:
            out.write_image(f"input/{name}", img_in)
            out.write_image(f"target/{name}", img_target)
        with open(out.path_for("sources.csv"), "w", newline="", encoding="utf-8") as fout:
            writer = csv.writer(fout)
            writer.writerow(["name", "input", "target"])
            for name, _, _, (src_in, src_target) in pairs:
                writer.writerow([name, src_in, src_target])
                result.names.append(name)
                result.sources[name] = (src_in, src_target)
        out.close(n=len(pairs), sources=[str(f) for f in inputs])
    return result


def pairs_by_token(source, output, input_token, target_token, overwrite=False, progress=True):
    """Pair the TIFFs of a folder tree by a label token in their file or folder names.

    A file whose path below ``source`` contains ``input_token`` (matched
    without regard to case) is an input; its target is the file whose path
    is the same with ``target_token`` in that place. For example, with
    ``input_token="AC15"`` and ``target_token="phalloidin"``,
    ``exp1/AC15/cell01.tif`` pairs with ``exp1/phalloidin/cell01.tif`` and
    ``cell01_AC15.tif`` with ``cell01_phalloidin.tif``. Files holding neither
    token are ignored. Pairs are written as ``output/input/NAME.tif`` and
    ``output/target/NAME.tif`` (float32, the layout ``l2l simulate`` writes),
    ``NAME`` being the path without the token; ``output/sources.csv`` lists
    where each pair came from. Nothing is written into ``source``.

    Parameters
    ----------
    source : str or Path
        Root of the folder tree (searched recursively; hidden files skipped).
    output : str or Path
        New output folder (see :func:`l2l_helpers.data.io.prepare_output_dir`);
        it may not lie inside ``source``.
    input_token, target_token : str
        Label names as they appear in the paths, e.g. ``"AC15"``, ``"phalloidin"``.
    overwrite : bool
        Allow a non-empty output folder: the files of the previous run into
        it (listed in its ``l2l_manifest.json``) are removed first, so two
        runs never mix; nothing else is deleted.
    progress : bool
        Show a progress bar (where the output is a terminal, or with
        ``L2L_PROGRESS``; see :mod:`l2l_helpers.course.progress`).

    Returns
    -------
    PairFolders
        Output folders, pair names and their sources.

    Raises
    ------
    ImageError
        Missing or empty source, inputs without target or targets without
        input (listed), paths holding both tokens, names that collide, or an
        image that fails :func:`l2l_helpers.data.io.read_image` or differs in
        shape from its partner (file named).
    ValueError
        Empty or equal tokens, or an output folder inside ``source``.
    FileExistsError
        A non-empty output folder without ``overwrite``; or, with
        ``overwrite``, a file in ``input/``, ``target/`` or ``sources.csv``
        that the previous run did not write (named; nothing is deleted or
        written), or a folder written by another command.

    Examples
    --------
    >>> pairs = pairs_by_token("downloads/l2l", "data/actin_pairs",
    ...                        input_token="AC15", target_token="phalloidin")  # doctest: +SKIP
    >>> names, (inputs, targets) = io.load_pairs(pairs.input_dir, pairs.target_dir)  # doctest: +SKIP
    """
    if not input_token or not target_token:
        raise ValueError("input_token and target_token must both be non-empty")
    if input_token.lower() == target_token.lower():
        raise ValueError(f"input_token and target_token are the same ({input_token!r})")
    source = Path(source)
    inputs, targets = _match_by_token(source, input_token, target_token)
    _check_pairs_output(output, [source], overwrite)
    return _write_pairs(output, _read_token_pairs(inputs, targets, progress), [source], overwrite)


def _match_by_token(source, input_token, target_token):
    """Inputs and targets keyed by their path below ``source``, the token replaced by :data:`_MARKER`.

    Raises an :class:`~l2l_helpers.data.io.ImageError` listing the paths that
    hold both tokens and the files without a partner.
    """
    in_re = re.compile(re.escape(input_token), re.IGNORECASE)
    target_re = re.compile(re.escape(target_token), re.IGNORECASE)
    inputs, targets, problems = {}, {}, []
    for path in io.list_images(source, recursive=True):
        rel = path.relative_to(source).as_posix()
        has_in, has_target = bool(in_re.search(rel)), bool(target_re.search(rel))
        if has_in and has_target:
            problems.append(
                f"{path}: holds both tokens {input_token!r} and {target_token!r}; cannot tell input from target"
            )
        elif has_in:
            inputs[in_re.sub(_MARKER, rel)] = path
        elif has_target:
            targets[target_re.sub(_MARKER, rel)] = path
    if not inputs and not targets and not problems:
        raise io.ImageError(f"{source}: no TIFF path contains {input_token!r} or {target_token!r}")
    for key in sorted(set(inputs) - set(targets)):
        problems.append(f"{inputs[key]}: input without target (expected {source / key.replace(_MARKER, target_token)})")
    for key in sorted(set(targets) - set(inputs)):
        problems.append(f"{targets[key]}: target without input (expected {source / key.replace(_MARKER, input_token)})")
    if problems:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if len(problems) > 10 else [])
        raise io.ImageError("cannot pair files by label token:\n  " + "\n  ".join(shown))
    return inputs, targets


def _read_token_pairs(inputs, targets, progress=True):
    """Read the matched files: a list of (name, input image, target image, sources)."""
    from l2l_helpers.course.progress import progress as tqdm

    pairs, seen = [], {}
    for key in tqdm(sorted(inputs), desc="reading pairs", unit="pair", disable=None if progress else True):
        stem = PurePosixPath(key).with_suffix("").as_posix().replace(_MARKER, "")
        name = _pair_name(stem.split("/"))
        if name in seen:
            raise io.ImageError(f"{inputs[key]} and {seen[name]}: both would be written as {name}; rename one")
        seen[name] = inputs[key]
        img_in = io.read_image(inputs[key])
        img_target = io.read_image(targets[key])
        if img_in.shape != img_target.shape:
            raise io.ImageError(
                f"{inputs[key]} {img_in.shape} and {targets[key]} {img_target.shape}: "
                "images of one pair differ in shape"
            )
        pairs.append((name, img_in, img_target, (str(inputs[key]), str(targets[key]))))
    return pairs


def _channel_axis(shape, channel_axis, path):
    if channel_axis is not None:
        if not -len(shape) <= channel_axis < len(shape):
            raise io.ImageError(f"{path}: channel_axis {channel_axis} does not exist in shape {shape}")
        return channel_axis % len(shape)
    small = [ax for ax in (len(shape) - 1, 0) if shape[ax] <= 8]
    if not small:
        raise io.ImageError(
            f"{path}: cannot tell which axis of shape {shape} holds the channels "
            "(neither the first nor the last has at most 8 entries); give channel_axis"
        )
    return small[0]


def pairs_from_channels(
    source, output, input_channel, target_channel, channel_axis=None, overwrite=False, progress=True
):
    """Split multi-channel TIFF stacks into input and target pair folders.

    Parameters
    ----------
    source : str or Path
        One multi-channel TIFF, or a folder of them (not recursive).
    output : str or Path
        New output folder (see :func:`l2l_helpers.data.io.prepare_output_dir`);
        it may not lie inside the source folder.
    input_channel, target_channel : int
        Channel indices (negative counts from the end) of the input label and
        the target label.
    channel_axis : int, optional
        Axis holding the channels. Default: the last axis if it has at most 8
        entries (``Y, X, C`` as in ``hela-cells.tif``), else the first (``C, Y, X``
        as ImageJ writes).
    overwrite : bool
        Allow a non-empty output folder: the files of the previous run into
        it (listed in its ``l2l_manifest.json``) are removed first, so two
        runs never mix; nothing else is deleted.
    progress : bool
        Show a progress bar (where the output is a terminal, or with
        ``L2L_PROGRESS``; see :mod:`l2l_helpers.course.progress`).

    Returns
    -------
    PairFolders
        Output folders (``input/``, ``target/``: one float32 2-D TIFF per stack,
        named like the stack), pair names and their sources.

    Raises
    ------
    ImageError
        Missing source, a stack that is not 3-D, a channel index out of range,
        a channel that fails :func:`l2l_helpers.data.io.check_image` (constant, NaN)
        - always naming the file.
    ValueError
        The same channel for input and target, or an output inside the source.
    FileExistsError
        A non-empty output folder without ``overwrite``; or, with
        ``overwrite``, a file in ``input/``, ``target/`` or ``sources.csv``
        that the previous run did not write (named; nothing is deleted or
        written), or a folder written by another command.

    Examples
    --------
    >>> pairs = pairs_from_channels("hela-cells.tif", "data/hela_pairs",
    ...                             input_channel=1, target_channel=0)  # doctest: +SKIP
    >>> names, (inputs, targets) = io.load_pairs(pairs.input_dir, pairs.target_dir)  # doctest: +SKIP
    """
    source = Path(source)
    if not source.exists():
        raise io.ImageError(f"{source}: file or folder does not exist")
    files = io.list_images(source) if source.is_dir() else [source]
    folder = source if source.is_dir() else source.parent
    from l2l_helpers.course.progress import progress as tqdm

    pairs = [
        _split_stack(path, input_channel, target_channel, channel_axis)
        for path in tqdm(files, desc="splitting stacks", unit="stack", disable=None if progress else True)
    ]
    return _write_pairs(output, pairs, [folder], overwrite)


def _split_stack(path, input_channel, target_channel, channel_axis):
    """One pair from a multi-channel stack: (name, input image, target image, sources)."""
    stack = io.read_image(path, ndim=3)
    axis = _channel_axis(stack.shape, channel_axis, path)
    n = stack.shape[axis]
    picked = []
    for label, index in (("input_channel", input_channel), ("target_channel", target_channel)):
        if not -n <= int(index) < n:
            raise io.ImageError(
                f"{path}: {label} {index} out of range; shape {stack.shape} has {n} channels on axis {axis}"
            )
        picked.append(int(index) % n)
    if picked[0] == picked[1]:
        raise ValueError(f"input_channel and target_channel are the same channel ({picked[0]})")
    images = [io.check_image(np.take(stack, k, axis=axis), name=f"{path} channel {k}") for k in picked]
    return path.stem + ".tif", images[0], images[1], (f"{path} channel {picked[0]}", f"{path} channel {picked[1]}")
