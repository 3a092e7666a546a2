#!/usr/bin/env python3
"""The benchmark suite: what the course costs on this machine, and what it gets for it.

Run it with ``python3 tasks.py bench`` (all sections but the long ones) or
``python3 tasks.py bench --sections quality drift`` (some). Every section runs
in a fresh process (peak memory is that process's, via ``resource``), and
writes its part of ``benchmarks/results.json``; sections not run keep their
earlier results, each stamped with when and on what it was measured.
``benchmarks/results.md`` (the tables README includes between its
``l2l:benchmarks`` markers) is rewritten from the JSON every time.

Sections
--------
``train``
    seconds per training step of each profile's network, and what a whole
    training of each profile costs (the paper profile: an estimate).
``speedups``
    what was tried to make a step faster on 2 cores (tf.data, XLA, threads,
    batch size), each against the baseline measured in the same run.
``losses``
    seconds per training step with each loss (l1, ssim, ms3, ms5).
``quality``
    quality per CPU minute: L2L on simulated actin, same data and seed, the
    same wall-clock budgets, for the workshop profile, CSBDeep's default
    ``Config`` and CAREamics' CARE (PyTorch; run in ``.venv-peers`` if it
    exists, else reported as not installed); SSIM and PSNR against the
    ground truth on held-out cells.
``quality_variants``
    changes to the workshop profile tried against CAREamics' lead (the
    earlier workshop network, flips, zoom copies, learning rate, batch
    normalisation, more patches, batch size), each trained for one minute on
    the quality section's data.
``quality_seeds``
    the closest comparison, workshop against CAREamics at 1 minute, repeated
    with three training seeds: the spread between runs; with the same seeds,
    the workshop profile with inputs standardised per image
    (``mean_std_input``).
``quality_real``
    the input normalisation on real structure: the L2L L1 network of
    notebook 09's real-structure check (the BPAE F-actin image with a
    synthetic label background, ``l2l_helpers.data.semisynthetic``), trained with
    the workshop profile and inputs scaled to percentiles or standardised,
    three seeds each; SSIM, PSNR and background left against the real
    image. Needs the BPAE image (a network, or ``../shared/realdata``, which
    ``python3 tasks.py bench`` serves); without it the section says so.
``drift``
    time per pair and RMS error against the known drift, ``phase`` and
    ``ssim``, and the time of the paper's SSIM search computed patch by patch.
``predict``
    megapixels per second restoring a 2048 x 2048 image in tiles, and the
    peak memory of that process.
``simulate``
    image pairs per second at 256 x 256 and 1024 x 1024.
``sweep``
    trainings per hour of a quick-profile sweep on 1 and 2 local Dask workers.
``notebooks``
    seconds and peak memory of every notebook in a profile
    (``--notebook-profile``, default quick), run as ``l2l course`` runs them;
    ``--from-summary course_output/summary.json [...]`` takes them from one
    or more course runs instead (how the workshop times are recorded: the maintainers'
    ``python3 tasks.py course --profile workshop --inplace`` run that made
    the committed notebooks).

Benchmarks are not tests: a slow machine never fails anything; the tables
say which target a number meets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # the suite's modules (suite_*.py) and the single benchmarks (bench_*.py) it reuses

from suite_common import (  # noqa: E402
    BUDGETS_MIN,
    DEFAULT_SECTIONS,
    MARK_END,
    MARK_START,
    RESULTS_JSON,
    RESULTS_MD,
    SECTIONS,
    _target,
    machine_info,
    write_json,
)
from suite_cost import (  # noqa: E402
    child_drift,
    child_loss_step,
    child_notebooks,
    child_predict,
    child_predict_model,
    child_simulate,
    child_sweep,
    child_train,
    section_drift,
    section_losses,
    section_notebooks,
    section_predict,
    section_simulate,
    section_speedups,
    section_sweep,
    section_train,
)
from suite_quality import (  # noqa: E402
    _seed_means,
    child_quality,
    child_quality_real,
    csbdeep_default_settings,
    quality_targets,
    section_quality,
    section_quality_real,
    section_quality_seeds,
    section_quality_variants,
)
from suite_report import format_markdown, update_readme  # noqa: E402

__all__ = [
    "MARK_END",
    "MARK_START",
    "_seed_means",
    "_target",
    "csbdeep_default_settings",
    "format_markdown",
    "main",
    "quality_targets",
    "run",
    "update_readme",
]


def run(sections, notebook_profile="quick", from_summary=None, budgets=BUDGETS_MIN):
    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.is_file() else {"sections": {}}
    results["machine"] = machine_info()
    functions = {
        "train": section_train,
        "speedups": section_speedups,
        "losses": section_losses,
        "quality": lambda: section_quality(budgets),
        "quality_variants": section_quality_variants,
        "quality_seeds": section_quality_seeds,
        "quality_real": section_quality_real,
        "drift": section_drift,
        "predict": section_predict,
        "simulate": section_simulate,
        "sweep": section_sweep,
        "notebooks": lambda: section_notebooks(notebook_profile, from_summary),
    }
    for name in sections:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        sec = functions[name]()
        key = f"notebooks_{sec['profile']}" if name == "notebooks" else name
        sec["measured"] = time.strftime("%Y-%m-%d")
        sec["seconds"] = round(time.perf_counter() - t0, 1)
        sec["load_average_1min"] = round(os.getloadavg()[0], 2)
        results["sections"][key] = sec
        for t in sec.get("targets", []):
            print(f"   {t['target']}: {t['value']} (limit {t['limit']}) met={t['met']}", flush=True)
        write_json(RESULTS_JSON, results)  # after every section
    markdown = format_markdown(results)
    RESULTS_MD.write_text(markdown)
    update_readme(markdown)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=SECTIONS,
        default=list(DEFAULT_SECTIONS),
        help=f"default: {' '.join(DEFAULT_SECTIONS)}",
    )
    parser.add_argument("--notebook-profile", default="quick", choices=("quick", "workshop", "paper"))
    parser.add_argument(
        "--from-summary",
        nargs="+",
        metavar="SUMMARY_JSON",
        help="take the notebooks section from course runs' summary.json files (merged)",
    )
    parser.add_argument(
        "--budgets",
        nargs="+",
        type=float,
        default=list(BUDGETS_MIN),
        help="quality section: wall-clock budgets in minutes",
    )
    parser.add_argument("--report-only", action="store_true", help="rewrite results.md and README from results.json")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, *rest = args.child
        fn = {
            "train": child_train,
            "loss": child_loss_step,
            "predict": child_predict,
            "predict_model": child_predict_model,
            "simulate": child_simulate,
            "drift": child_drift,
            "sweep": lambda w, f: child_sweep(int(w), f),
            "notebooks": child_notebooks,
            "quality_real": child_quality_real,
            "quality": lambda tool, b, d, o, v="workshop", seed="0": child_quality(
                tool, float(b), d, o, seed=int(seed), variant=v
            ),
        }[name]
        result = fn(*rest)
        print(json.dumps(result))
        return 0
    if args.report_only:
        markdown = format_markdown(json.loads(RESULTS_JSON.read_text()))
        RESULTS_MD.write_text(markdown)
        update_readme(markdown)
        return 0
    budgets = tuple(int(b) if float(b).is_integer() else b for b in args.budgets)
    run(args.sections, args.notebook_profile, args.from_summary, budgets)
    print(f"wrote {RESULTS_JSON} and {RESULTS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
