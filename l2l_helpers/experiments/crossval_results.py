"""The cross-validation sweep's CSV: its columns, reading it, and the relative changes per number of pairs.

Part of :mod:`l2l_helpers.experiments.crossval` (which re-exports every public name here). No Dask or
TensorFlow: notebooks 07 and 09 read a finished ``results.csv`` with :func:`read_results` and summarise it
with :func:`relative_changes`, :func:`summarize` and :func:`format_summary`.

Examples
--------
>>> COLUMNS[:3]
('n_pairs', 'repeat', 'fold')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2l_helpers.experiments.sweep import read_rows

__all__ = [
    "COLUMNS",
    "GROUND_TRUTH_COLUMNS",
    "METRICS",
    "RESULTS_CSV",
    "columns",
    "format_summary",
    "read_results",
    "relative_changes",
    "summarize",
]

#: Columns of ``results.csv``, in order (the ground-truth columns follow the
#: metrics when the data have a ground truth). Image lists are file names
#: separated by spaces; ``seconds`` is the task's wall time; ``status`` is
#: ``ok`` or ``failed`` (then ``error`` says why and the metrics are empty).
COLUMNS = (
    "n_pairs",
    "repeat",
    "fold",
    "epochs",
    "seed",
    "train_images",
    "validation_images",
    "test_images",
    "nrmse_input",
    "nrmse_restored",
    "ms5_input",
    "ms5_restored",
    "psnr_input",
    "psnr_restored",
)
#: Columns added when the data have a ground truth: the same metrics against it.
GROUND_TRUTH_COLUMNS = (
    "nrmse_input_gt",
    "nrmse_restored_gt",
    "ms5_input_gt",
    "ms5_restored_gt",
    "psnr_input_gt",
    "psnr_restored_gt",
)
_TAIL = ("seconds", "worker", "status", "error")
#: File name of the rows in the output folder.
RESULTS_CSV = "results.csv"
#: The metrics of a row, each for the input and the restoration (``nrmse_input``, ``nrmse_restored``, ...).
METRICS = ("nrmse", "ms5", "psnr")


def columns(has_ground_truth):
    """The columns of ``results.csv``, in order.

    Examples
    --------
    >>> columns(False)[-4:]
    ('seconds', 'worker', 'status', 'error')
    >>> len(columns(True)) - len(columns(False)) == len(GROUND_TRUTH_COLUMNS)
    True
    """
    return COLUMNS + (GROUND_TRUTH_COLUMNS if has_ground_truth else ()) + _TAIL


def read_results(path):
    """Read a results CSV (a file or an output folder) into rows with numbers as numbers.

    Parameters
    ----------
    path : str or Path
        ``results.csv`` or the folder holding it.

    Returns
    -------
    list of dict
        One dict per row; ``n_pairs``, ``repeat``, ``fold``, ``epochs``,
        ``seed`` as int, metrics and ``seconds`` as float (NaN when empty).

    Raises
    ------
    FileNotFoundError
        No such CSV.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("n_pairs,repeat,fold,nrmse_input,nrmse_restored,status\\n4,0,1,0.5,,failed\\n")
    >>> row = read_results(p)[0]
    >>> row["fold"], bool(np.isnan(row["nrmse_restored"]))
    (1, True)
    """
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_CSV
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such results file")
    rows = []
    for r in read_rows(path):
        row = {}
        for k, v in r.items():
            if k in ("n_pairs", "repeat", "fold", "epochs", "seed"):
                row[k] = int(v) if v not in ("", None) else None
            elif k in COLUMNS[8:] + GROUND_TRUTH_COLUMNS + ("seconds",):
                row[k] = float(v) if v not in ("", None) else float("nan")
            else:
                row[k] = v
        rows.append(row)
    return rows


def relative_changes(rows, metric="nrmse", reference="target"):
    """Relative change of a metric from input to restoration, per cross-validation (mean over its folds).

    ``(restored - input) / input`` per test fold, as in the paper's Fig. 5,
    then averaged over the folds of each (N, repetition): one value per
    cross-validation. Negative is better for NRMSE, positive for (MS-)SSIM
    and PSNR. Failed rows are left out.

    Parameters
    ----------
    rows : list of dict
        From :func:`read_results`.
    metric : {"nrmse", "ms5", "psnr"}
    reference : {"target", "ground_truth"}
        Scores against the target label or against the ground truth.

    Returns
    -------
    dict of int to ndarray
        N -> relative changes of its cross-validations (in repetition order).

    Examples
    --------
    >>> rows = [dict(n_pairs=4, repeat=0, fold=f, status="ok", nrmse_input=0.5, nrmse_restored=r)
    ...         for f, r in enumerate((0.25, 0.35))]
    >>> relative_changes(rows)
    {4: array([-0.4])}
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    suffix = {"target": "", "ground_truth": "_gt"}[reference]
    per_cv = {}
    for r in rows:
        if r.get("status") != "ok":
            continue
        before, after = r.get(f"{metric}_input{suffix}"), r.get(f"{metric}_restored{suffix}")
        if before is None or after is None or not np.isfinite(before) or not np.isfinite(after):
            continue
        per_cv.setdefault((int(r["n_pairs"]), int(r["repeat"])), []).append((after - before) / before)
    out = {}
    for (n, _), values in sorted(per_cv.items()):
        out.setdefault(n, []).append(float(np.mean(values)))
    return {n: np.array(v) for n, v in out.items()}


def summarize(rows, reference="target"):
    """Mean and spread of the relative changes per N, for NRMSE and 5S-SSIM.

    Parameters
    ----------
    rows : list of dict
        From :func:`read_results`.
    reference : {"target", "ground_truth"}

    Returns
    -------
    list of dict
        One per N: ``n_pairs``, ``cross_validations``, ``folds_ok``,
        ``folds_failed``, and for ``nrmse`` and ``ms5``: ``<metric>_mean``,
        ``<metric>_sd`` (between cross-validations), ``<metric>_min``,
        ``<metric>_max`` (relative changes).

    Examples
    --------
    >>> rows = [dict(n_pairs=4, repeat=r, fold=0, status="ok", nrmse_input=0.5, nrmse_restored=v,
    ...              ms5_input=0.8, ms5_restored=0.9) for r, v in enumerate((0.25, 0.35))]
    >>> s = summarize(rows)[0]
    >>> s["n_pairs"], s["cross_validations"], round(s["nrmse_mean"], 2), round(s["nrmse_sd"], 2)
    (4, 2, -0.4, 0.1)
    """
    changes = {m: relative_changes(rows, m, reference) for m in ("nrmse", "ms5")}
    out = []
    for n in sorted({int(r["n_pairs"]) for r in rows}):
        entry = {
            "n_pairs": n,
            "cross_validations": len(changes["nrmse"].get(n, ())),
            "folds_ok": sum(1 for r in rows if int(r["n_pairs"]) == n and r.get("status") == "ok"),
            "folds_failed": sum(1 for r in rows if int(r["n_pairs"]) == n and r.get("status") != "ok"),
        }
        for m, values in changes.items():
            v = values.get(n, np.array([]))
            entry.update(
                {
                    f"{m}_mean": float(v.mean()) if v.size else float("nan"),
                    f"{m}_sd": float(v.std()) if v.size else float("nan"),
                    f"{m}_min": float(v.min()) if v.size else float("nan"),
                    f"{m}_max": float(v.max()) if v.size else float("nan"),
                }
            )
        out.append(entry)
    return out


def format_summary(summary):
    """Format :func:`summarize`'s output as a text table (relative changes in %).

    Parameters
    ----------
    summary : list of dict
        From :func:`summarize`.

    Returns
    -------
    str

    Examples
    --------
    >>> print(format_summary([{"n_pairs": 4, "cross_validations": 2, "folds_ok": 8, "folds_failed": 0,
    ...                        "nrmse_mean": -0.4, "nrmse_sd": 0.1, "ms5_mean": 0.05, "ms5_sd": 0.01}]))
        N  cross-val.  folds ok  failed  NRMSE change (%)  5S-SSIM change (%)
        4           2         8       0      -40.0 ± 10.0          +5.0 ± 1.0
    """
    lines = [
        f"{'N':>5}  {'cross-val.':>10}  {'folds ok':>8}  {'failed':>6}  {'NRMSE change (%)':>16}  "
        f"{'5S-SSIM change (%)':>18}"
    ]
    for e in summary:
        nrmse = f"{100 * e['nrmse_mean']:+.1f} ± {100 * e['nrmse_sd']:.1f}"
        ms5 = f"{100 * e['ms5_mean']:+.1f} ± {100 * e['ms5_sd']:.1f}"
        lines.append(
            f"{e['n_pairs']:>5}  {e['cross_validations']:>10}  {e['folds_ok']:>8}  {e['folds_failed']:>6}  "
            f"{nrmse:>16}  {ms5:>18}"
        )
    return "\n".join(lines)
