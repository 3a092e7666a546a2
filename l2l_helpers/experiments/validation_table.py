"""The validation's CSV and its reading: columns, file names, rows as numbers, pivots and the Markdown table.

Part of :mod:`l2l_helpers.experiments.validate` (which re-exports every public name here). No Dask or
TensorFlow: notebook 09 reads a finished ``validation.csv`` with :func:`read_validation`, :func:`pivot`
and :func:`format_validation`.

Examples
--------
>>> COLUMNS[:4]
('structure', 'method', 'kind', 'loss')
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from l2l_helpers.experiments.methods import METHODS
from l2l_helpers.experiments.sweep import read_rows

__all__ = [
    "COLUMNS",
    "FWHM_STRUCTURE",
    "NUMERIC_COLUMNS",
    "SCORES",
    "VALIDATION_CSV",
    "VALIDATION_JSON",
    "VALIDATION_MD",
    "format_validation",
    "pivot",
    "read_validation",
    "sort_validation_csv",
    "table_order",
]

#: The scores of a restoration, each against the ground truth (``*_gt``) and the target label (``*_target``).
SCORES = ("psnr", "nrmse", "ssim", "ms3", "ms5")
#: Columns of ``validation.csv``, in order. ``kind``: ``data`` (input, its average, the target),
#: ``classical``, ``n2n``, ``l2l`` or ``cyclegan``; ``loss``: the training loss of N2N and L2L networks;
#: ``*_gt``: scores against the ground truth, ``*_target``: against the target label (empty for the target
#: itself); ``background`` and ``hallucination`` against the ground truth; ``contrast``: mean Michelson contrast
#: of the restored held-out cells; ``fwhm_px``: mean microtubule width (tubulin only, else empty),
#: ``fwhm_gt_px`` the ground truth's on the same lines, ``fwhm_lines`` the lines (picked from the ground truth
#: of the held-out cells, as in lesson 08; fits that fail are left out of a mean); image lists are file
#: names separated by spaces; ``seconds``: the task's wall time; ``status``: ``ok`` or ``failed`` (then
#: ``error`` says why and the numbers are empty). A score that is undefined is ``nan`` (the hallucination score
#: of a restoration that is not brighter on the structure than where nothing is, e.g. an untrained CycleGAN).
COLUMNS = (
    ("structure", "method", "kind", "loss")
    + tuple(f"{m}_gt" for m in SCORES)
    + tuple(f"{m}_target" for m in SCORES)
    + (
        "background",
        "hallucination",
        "contrast",
        "fwhm_px",
        "fwhm_gt_px",
        "fwhm_lines",
        "profile",
        "size",
        "n_train",
        "n_test",
        "seed",
        "train_images",
        "test_images",
        "seconds",
        "worker",
        "status",
        "error",
    )
)
#: Columns read as floats by :func:`read_validation` (NaN when empty).
NUMERIC_COLUMNS = (
    tuple(f"{m}_gt" for m in SCORES)
    + tuple(f"{m}_target" for m in SCORES)
    + ("background", "hallucination", "contrast", "fwhm_px", "fwhm_gt_px", "seconds")
)
_INT_COLUMNS = ("fwhm_lines", "size", "n_train", "n_test", "seed")
#: File names in the output folder.
VALIDATION_CSV = "validation.csv"
VALIDATION_MD = "validation.md"
VALIDATION_JSON = "validation.json"
#: The structure whose microtubule widths are measured (``fwhm_px``).
FWHM_STRUCTURE = "tubulin"


def table_order(row):
    """Sort key of a row: structures in :data:`~l2l_helpers.data.simulate.PAIRED_STRUCTURES` order, then methods in
    :data:`~l2l_helpers.experiments.methods.METHODS` order (unknown ones last, by name).

    Examples
    --------
    >>> rows = [{"structure": "tubulin", "method": "input"}, {"structure": "actin", "method": "target"},
    ...         {"structure": "actin", "method": "input"}]
    >>> [(r["structure"], r["method"]) for r in sorted(rows, key=table_order)]
    [('actin', 'input'), ('actin', 'target'), ('tubulin', 'input')]
    """
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES

    s, m = row["structure"], row["method"]
    return (
        PAIRED_STRUCTURES.index(s) if s in PAIRED_STRUCTURES else len(PAIRED_STRUCTURES),
        s,
        list(METHODS).index(m) if m in METHODS else len(METHODS),
        m,
    )


def sort_validation_csv(path, columns=COLUMNS):
    """Rewrite a finished CSV in :func:`table_order`, atomically."""
    rows = sorted(read_rows(path), key=table_order)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.sorted")  # hidden: never taken for a foreign file
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def read_validation(path):
    """Read ``validation.csv`` (a file or its folder) into rows with numbers as numbers.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of dict
        One dict per row, in file order; :data:`NUMERIC_COLUMNS` as float
        (NaN when empty), ``fwhm_lines``, ``size``, ``n_train``, ``n_test``,
        ``seed`` as int (None when empty), the rest as strings.

    Raises
    ------
    FileNotFoundError
        No such file.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "v.csv"
    >>> _ = p.write_text("structure,method,psnr_gt,fwhm_px,n_test,status\\nactin,input,21.5,,2,ok\\n")
    >>> row = read_validation(p)[0]
    >>> row["psnr_gt"], math.isnan(row["fwhm_px"]), row["n_test"]
    (21.5, True, 2)
    """
    path = Path(path)
    if path.is_dir():
        path = path / VALIDATION_CSV
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such validation file")
    rows = []
    for r in read_rows(path):
        row = {}
        for k, v in r.items():
            if k in NUMERIC_COLUMNS:
                row[k] = float(v) if v not in ("", None) else math.nan
            elif k in _INT_COLUMNS:
                row[k] = int(v) if v not in ("", None) else None
            else:
                row[k] = v
        rows.append(row)
    return rows


def pivot(rows, metric):
    """One metric as ``{structure: {method: value}}`` (finished rows only, table order).

    Parameters
    ----------
    rows : list of dict
        From :func:`read_validation`.
    metric : str
        A column, e.g. ``"psnr_gt"``, ``"background"``, ``"contrast"``, ``"fwhm_px"``.

    Returns
    -------
    dict of str to dict of str to float

    Raises
    ------
    ValueError
        A metric that is not a numeric column.

    Examples
    --------
    >>> rows = [{"structure": "actin", "method": m, "status": "ok", "contrast": c}
    ...         for m, c in (("target", 0.9), ("input", 0.4))]
    >>> pivot(rows, "contrast")
    {'actin': {'input': 0.4, 'target': 0.9}}
    """
    if metric not in NUMERIC_COLUMNS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(NUMERIC_COLUMNS)}")
    out = {}
    for r in sorted(rows, key=table_order):
        if r.get("status") == "ok":
            out.setdefault(r["structure"], {})[r["method"]] = float(r.get(metric, math.nan))
    return out


#: Columns of the Markdown table: (column, heading, decimals).
_TABLE = (
    ("psnr_gt", "PSNR", 2),
    ("nrmse_gt", "NRMSE", 3),
    ("ssim_gt", "SSIM", 3),
    ("ms5_gt", "5S-SSIM", 3),
    ("psnr_target", "PSNR (target)", 2),
    ("ssim_target", "SSIM (target)", 3),
    ("background", "background", 3),
    ("hallucination", "hallucination", 3),
    ("contrast", "contrast", 3),
)


def _cell(value, digits):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{value:.{digits}f}" if math.isfinite(value) else ""


def format_validation(rows):
    """The validation as Markdown: one table per structure, methods in :data:`METHODS` order.

    Scores against the ground truth (PSNR, NRMSE, SSIM, 5S-SSIM), against
    the target label, the background left, the hallucination score, the
    Michelson contrast and, for tubulin, the microtubule width (FWHM, with
    the ground truth's in the heading). Failed rows are listed with their
    errors under their table.

    Parameters
    ----------
    rows : list of dict
        From :func:`read_validation`.

    Returns
    -------
    str

    Examples
    --------
    >>> row = {"structure": "actin", "method": "input", "status": "ok", "psnr_gt": 20.0, "contrast": 0.4,
    ...        "n_train": 8, "n_test": 3, "profile": "workshop", "size": 256, "seed": 0}
    >>> print(format_validation([row]).splitlines()[8])
    | input | 20.00 |  |  |  |  |  |  |  | 0.400 |
    """
    lines = ["# Validation on held-out simulated cells", ""]
    if rows:
        r0 = rows[0]
        lines += [
            f"Profile {r0.get('profile', '?')}, {r0.get('n_train', '?')} training and {r0.get('n_test', '?')} "
            f"held-out cells of {r0.get('size', '?')} px per structure, seed {r0.get('seed', '?')}. Scores "
            "against the ground truth unless marked (target); background: cytosol left relative to the "
            "structure; hallucination: signal where the truth has no structure, beyond the input's; "
            "contrast: Michelson contrast of the structure. `l2l validate table` prints this again.",
            "",
        ]
    by_structure = {}
    for r in sorted(rows, key=table_order):
        by_structure.setdefault(r["structure"], []).append(r)
    for structure, group in by_structure.items():
        lines += _structure_table(structure, group)
    return "\n".join(lines).rstrip() + "\n"


def _fwhm_heading(group):
    """The tubulin heading's note: the ground truth's mean width and the number of lines."""
    gt = [r.get("fwhm_gt_px") for r in group if r.get("status") == "ok"]
    gt = next((g for g in gt if _cell(g, 2)), None)
    n = next((r.get("fwhm_lines") for r in group if r.get("status") == "ok"), None)
    return f" (FWHM of the ground truth: {_cell(gt, 2) or 'n/a'} px" + (f", {n} lines)" if n not in (None, "") else ")")


def _structure_table(structure, group):
    """The Markdown lines of one structure: heading, table, failed methods with their errors."""
    fwhm = structure == FWHM_STRUCTURE
    heading = f"## {structure}" + (_fwhm_heading(group) if fwhm else "")
    columns = list(_TABLE) + ([("fwhm_px", "FWHM (px)", 2)] if fwhm else [])
    lines = [
        heading,
        "",
        "| method | " + " | ".join(h for _, h, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    failed = []
    for r in group:
        if r.get("status") != "ok":
            failed.append(r)
            lines.append(
                f"| {r['method']} | " + " | ".join("failed" if i == 0 else "" for i in range(len(columns))) + " |"
            )
            continue
        lines.append(f"| {r['method']} | " + " | ".join(_cell(r.get(c), d) for c, _, d in columns) + " |")
    lines.append("")
    for r in failed:
        lines += [f"- {r['method']} failed: {r.get('error', '')}"]
    if failed:
        lines.append("")
    return lines
