"""The benchmark suite's report: the tables of results.json as Markdown (results.md) and README's block."""

from __future__ import annotations

from suite_common import MARK_END, MARK_START, README, ROOT, _run_label

# ----------------------------------------------------------------------------- report


def _fmt(value, unit=""):
    if value is None:
        return "–"
    if isinstance(value, float):
        value = f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return f"{value}{unit}"


def _row(cells):
    """A Markdown table row; an empty cell is written ``| |``."""
    return "|" + "|".join(f" {c} " if c != "" else " " for c in cells) + "|"


def _score(key, fmt=".3f"):
    """A column of :func:`_seed_table`: a run's ``key``; in a mean row, with the SSIM range for ``ssim_gt``."""

    def cell(r):
        if key == "ssim_gt" and "ssim_min" in r:
            return f"{r[key]:{fmt}} ({r['ssim_min']:{fmt}}-{r['ssim_max']:{fmt}})"
        return f"{r[key]:{fmt}}" if key in r else ""

    return cell


def _seed_table(title, q, label_head, label, columns):
    """Runs with several training seeds (label, seed, seconds trained, ``columns``), then one mean row per label.

    ``columns``: (header, function of a run or of a mean row, "" where that has no value)."""
    out = [
        "",
        f"**{title}** (measured {q['measured']}): {q['description']}.",
        "",
        _row([label_head, "seed", "trained (s)", *(h for h, _ in columns)]),
        _row(["---"] + ["---:"] * (2 + len(columns))),
    ]
    for r in q["runs"]:
        if r.get("status") != "ok":
            out.append(_row([label(r), r.get("seed", ""), r["status"], *([""] * len(columns))]))
        else:
            out.append(_row([label(r), r["seed"], f"{r['train_seconds']:.0f}", *(f(r) for _, f in columns)]))
    out += [_row([f"{name}: mean (SSIM range)", "", "", *(f(m) for _, f in columns)]) for name, m in q["means"].items()]
    return out


def _heading(title, sec, text=""):
    """The paragraph that opens a section's table: ``**title** (measured date)`` and ``text``."""
    return ["", f"**{title}** (measured {sec['measured']}){text}"]


def _table(title, sec, text, header, align):
    """A section's paragraph, then the header of its table (``header`` and ``align``: Markdown cells)."""
    return [*_heading(title, sec, text), "", _row(header), _row(align)]


def _probe_lines(machine):
    """The CPU's family, vector extensions and speed probe, where the run recorded them (none before)."""
    probe = machine.get("probe")
    if "cpu_flags" not in machine:
        return []
    line = (
        f"CPU family {machine.get('cpu_family')}, vector extensions: {', '.join(machine['cpu_flags']) or 'none'}"
        " (training time depends on them more than on the clock)"
    )
    if probe:
        line += (
            f"; speed probe: {probe['seconds_per_step']} s per {probe['profile']} training step, "
            f"{probe['matmul_gflops']} GFLOP/s float32 matrix multiplication"
        )
    return ["", line + "."]


def _machine_and_targets(results):
    """The machine the numbers were measured on, then every target of every section with its verdict."""
    m = results.get("machine", {})
    versions = m.get("versions", {})
    out = [
        f"Measured on {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gb')} GB, no GPU; "
        f"TensorFlow {versions.get('tensorflow')}, Keras {versions.get('keras')}, "
        f"CSBDeep {versions.get('csbdeep')}. Regenerate with `python3 tasks.py bench`.",
        *_probe_lines(m),
        "",
        "| section | target | measured | limit | met |",
        "| --- | --- | ---: | ---: | :---: |",
    ]
    for name, sec in results.get("sections", {}).items():
        for t in sec.get("targets", []):
            sign = "≤" if t["better"] == "lower" else "≥"
            met = {True: "yes", False: "**no**", None: "–"}[t["met"]]
            out.append(f"| {name} | {t['target']} | {_fmt(t['value'])} | {sign} {_fmt(t['limit'])} | {met} |")
    return out


def _notebooks_table(sec):
    out = _table(
        f"Notebooks, {sec['profile']} profile",
        sec,
        ": seconds and peak memory of the kernel and its processes (Dask workers): their summed PSS, "
        "which counts pages they share (TensorFlow's libraries, about 360 MB) once, as Binder's "
        "memory limit does; their summed RSS counts them once per process (an upper bound).",
        ["notebook", "status", "seconds", "peak memory, PSS (MB)", "summed RSS (MB)"],
        ["---", "---", "---:", "---:", "---:"],
    )
    out += [
        f"| {e['notebook']} | {e['status']} | {_fmt(e['seconds'])} | {_fmt(e.get('peak_memory_mb'))} | "
        f"{_fmt(e.get('peak_rss_sum_mb'))} |"
        for e in sec["notebooks"]
    ]
    measured = {e["notebook"] for e in sec["notebooks"]}
    missing = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if p.name not in measured)
    if missing:
        out += ["", f"Not in this run: {', '.join(missing)}."]
    return out


def _quality_table(q):
    out = _table(
        "Quality per CPU minute",
        q,
        f": {q['description']}. The input scores "
        f"SSIM {q['input_scores']['ssim_gt']:.3f}, PSNR {q['input_scores']['psnr_gt']:.2f} dB.",
        ["tool", "budget (min)", "trained (s)", "steps", "SSIM", "PSNR (dB)"],
        ["---"] + ["---:"] * 5,
    )
    for r in q["runs"]:
        if r.get("status") != "ok":
            out.append(f"| {r['tool']} | {r.get('budget_min', '–')} | {r['status']} | | | |")
        else:
            note = " (stopped early)" if r["train_seconds"] < 0.9 * r["budget_min"] * 60 else ""
            out.append(
                f"| {r['tool']} | {r['budget_min']} | {r['train_seconds']:.0f}{note} | {_fmt(r['steps'])} | "
                f"{r['ssim_gt']:.3f} | {r['psnr_gt']:.2f} |"
            )
    return out


def _quality_seeds_table(q):
    columns = [
        ("steps", lambda r: _fmt(r["steps"]) if "steps" in r else ""),
        ("SSIM", _score("ssim_gt")),
        ("PSNR (dB)", _score("psnr_gt", ".2f")),
    ]
    return _seed_table("Run-to-run spread at 1 minute", q, "tool", _run_label, columns)


def _quality_real_table(q):
    columns = [
        ("SSIM", _score("ssim_gt")),
        ("PSNR (dB)", _score("psnr_gt", ".2f")),
        ("background", _score("background")),
    ]
    out = _seed_table("Input normalisation on real structure", q, "inputs", lambda r: r["normalization"], columns)
    first = next((r for r in q["runs"] if r.get("status") == "ok"), None)
    if first:
        inp, target = first["input"], first["target"]
        out += [
            "",
            f"For comparison, seed {first['seed']}: the input scores SSIM {inp['ssim_gt']:.3f}, "
            f"PSNR {inp['psnr_gt']:.2f} dB, background {inp['background']:.3f}; "
            f"the target label SSIM {target['ssim_gt']:.3f}, PSNR "
            f"{target['psnr_gt']:.2f} dB, background {target['background']:.3f}.",
        ]
    return out


def _quality_variants_table(q):
    out = _table(
        "Changes tried to the workshop profile",
        q,
        f": {q['description']}.",
        ["variant", "what", "steps", "SSIM", "PSNR (dB)"],
        ["---", "---", "---:", "---:", "---:"],
    )
    return out + [
        f"| {r['variant']} | {r['what']} | {_fmt(r['steps'])} | {r['ssim_gt']:.3f} | {r['psnr_gt']:.2f} |"
        for r in q["runs"]
    ]


def _train_table(sec):
    out = _table(
        "Training step per profile",
        sec,
        ".",
        ["profile", "parameters", "s/step", "one training (min, estimate)", "peak memory (MB)"],
        ["---"] + ["---:"] * 4,
    )
    return out + [
        f"| {r['profile']} | {r['n_parameters']} | {r['seconds_per_step']:.3f} | "
        f"{r['estimated_training_minutes']:.1f} | {r['peak_memory_mb']:.0f} |"
        for r in sec["profiles"]
    ]


def _speedups_table(sp):
    out = _table(
        "What was tried to speed up a step",
        sp,
        f": {sp['description']}.",
        ["variant", "median s/step", "wall s/step", "speed-up (median)", "peak memory (MB)"],
        ["---"] + ["---:"] * 4,
    )
    for r in sp["variants"]:
        if "error" in r:
            out.append(f"| {r['variant']} | failed | | | |")
        else:
            out.append(
                f"| {r['variant']} | {r['seconds_per_step_median']:.3f} | {r['seconds_per_step_wall']:.3f} | "
                f"{r['speedup_vs_baseline']:.2f}x | {r['peak_memory_mb']:.0f} |"
            )
    return out


def _losses_table(sec):
    out = _table("Loss cost", sec, ".", ["loss", "s/step", "/ l1"], ["---", "---:", "---:"])
    return out + [f"| {r['loss']} | {r['seconds_per_step']:.3f} | {r['relative_to_l1']:.2f} |" for r in sec["losses"]]


def _drift_table(sec):
    out = _table(
        "Drift",
        sec,
        ".",
        ["method", "ms/pair", "RMS error (px)", "max error (px)"],
        ["---", "---:", "---:", "---:"],
    )
    out += [
        f"| {k} | {1000 * v['seconds_per_pair']:.1f} | {v['rms_error_px']:.3f} | {v['max_error_px']:.3f} |"
        for k, v in sec["methods"].items()
    ]
    paper = sec.get("ssim_per_patch")
    if paper:
        out += [
            f"| ssim, computed per patch as the paper describes (skimage, {paper['pairs']} actin pairs) | "
            f"{1000 * paper['seconds_per_pair']:.0f} | same shift as ssim: "
            f"{'yes' if paper['same_shift_as_ssim'] else '**no**'} | |",
            "",
            "`ssim` computes the paper's search exactly (tests/test_drift.py) from one SSIM map per shift "
            f"instead of 12,100 patch SSIMs: {sec['ssim_speedup_over_per_patch']}x faster than the "
            "per-patch computation. `phase` is "
            f"{sec['phase_speedup_over_ssim_per_patch']}x faster than the per-patch computation and "
            f"{sec['phase_speedup_over_ssim']}x faster than `ssim` as computed here.",
        ]
    return out


def _predict_line(p):
    return _heading(
        "Prediction",
        p,
        f": {p['size']} x {p['size']} px in {p['n_tiles'][0]} x {p['n_tiles'][1]} tiles, {p['seconds']:.1f} s = "
        f"{p['mpix_per_s']:.2f} MPix/s, peak memory {p['peak_memory_mb']:.0f} MB.",
    )


def _simulate_line(sec):
    rates = ", ".join(f"{k} px: {v['pairs_per_second_mean_over_structures']:.2f}" for k, v in sec["sizes"].items())
    return _heading("Simulator", sec, f": image pairs per second, {rates} (mean over structures).")


def _sweep_line(w):
    runs = ", ".join(f"{r['workers']} worker(s) {r['trainings_per_hour']:.0f} trainings/hour" for r in w["runs"])
    return _heading("Sweep scaling", w, f": {runs} (x{w['speedup_2_workers']:.2f}).")


#: The report's parts after the targets, in order: results.json's section -> its table (or line) as Markdown lines.
REPORT_PARTS = {
    "notebooks_quick": _notebooks_table,
    "notebooks_workshop": _notebooks_table,
    "quality": _quality_table,
    "quality_seeds": _quality_seeds_table,
    "quality_real": _quality_real_table,
    "quality_variants": _quality_variants_table,
    "train": _train_table,
    "speedups": _speedups_table,
    "losses": _losses_table,
    "drift": _drift_table,
    "predict": _predict_line,
    "simulate": _simulate_line,
    "sweep": _sweep_line,
}


def format_markdown(results):
    """The tables of ``results`` (as in results.json) as Markdown."""
    out = _machine_and_targets(results)
    sections = results.get("sections", {})
    for name, part in REPORT_PARTS.items():
        if name in sections:
            out += part(sections[name])
    return "\n".join(out) + "\n"


def update_readme(markdown, readme=README):
    """Put ``markdown`` between the benchmark markers of README (if it has them)."""
    text = readme.read_text()
    if MARK_START not in text or MARK_END not in text:
        return False
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    readme.write_text(f"{head}{MARK_START}\n{markdown}{MARK_END}{tail}")
    return True
