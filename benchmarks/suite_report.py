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


def format_markdown(results):
    """The tables of ``results`` (as in results.json) as Markdown."""
    out = []
    m = results.get("machine", {})
    out += [
        f"Measured on {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gb')} GB, no GPU; "
        f"TensorFlow {m.get('versions', {}).get('tensorflow')}, Keras {m.get('versions', {}).get('keras')}, "
        f"CSBDeep {m.get('versions', {}).get('csbdeep')}. Regenerate with `python3 tasks.py bench`.",
        "",
    ]
    out += ["| section | target | measured | limit | met |", "| --- | --- | ---: | ---: | :---: |"]
    for name, sec in results.get("sections", {}).items():
        for t in sec.get("targets", []):
            sign = "≤" if t["better"] == "lower" else "≥"
            met = {True: "yes", False: "**no**", None: "–"}[t["met"]]
            out.append(f"| {name} | {t['target']} | {_fmt(t['value'])} | {sign} {_fmt(t['limit'])} | {met} |")
    s = results.get("sections", {})
    for key in ("notebooks_quick", "notebooks_workshop"):
        if key in s:
            out += [
                "",
                f"**Notebooks, {s[key]['profile']} profile** (measured {s[key]['measured']}): "
                "seconds and peak memory of the kernel and its processes (Dask workers): their summed PSS, "
                "which counts pages they share (TensorFlow's libraries, about 360 MB) once, as Binder's "
                "memory limit does; their summed RSS counts them once per process (an upper bound).",
                "",
                "| notebook | status | seconds | peak memory, PSS (MB) | summed RSS (MB) |",
                "| --- | --- | ---: | ---: | ---: |",
            ]
            out += [
                f"| {e['notebook']} | {e['status']} | {_fmt(e['seconds'])} | {_fmt(e.get('peak_memory_mb'))} | "
                f"{_fmt(e.get('peak_rss_sum_mb'))} |"
                for e in s[key]["notebooks"]
            ]
            measured = {e["notebook"] for e in s[key]["notebooks"]}
            missing = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if p.name not in measured)
            if missing:
                out += ["", f"Not in this run: {', '.join(missing)}."]
    if "quality" in s:
        q = s["quality"]
        out += [
            "",
            f"**Quality per CPU minute** (measured {q['measured']}): {q['description']}. The input scores "
            f"SSIM {q['input_scores']['ssim_gt']:.3f}, PSNR {q['input_scores']['psnr_gt']:.2f} dB.",
            "",
            "| tool | budget (min) | trained (s) | steps | SSIM | PSNR (dB) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in q["runs"]:
            if r.get("status") != "ok":
                out.append(f"| {r['tool']} | {r.get('budget_min', '–')} | {r['status']} | | | |")
            else:
                note = " (stopped early)" if r["train_seconds"] < 0.9 * r["budget_min"] * 60 else ""
                out.append(
                    f"| {r['tool']} | {r['budget_min']} | {r['train_seconds']:.0f}{note} | {_fmt(r['steps'])} | "
                    f"{r['ssim_gt']:.3f} | {r['psnr_gt']:.2f} |"
                )
    if "quality_seeds" in s:
        out += _seed_table(
            "Run-to-run spread at 1 minute",
            s["quality_seeds"],
            "tool",
            _run_label,
            [
                ("steps", lambda r: _fmt(r["steps"]) if "steps" in r else ""),
                ("SSIM", _score("ssim_gt")),
                ("PSNR (dB)", _score("psnr_gt", ".2f")),
            ],
        )
    if "quality_real" in s:
        q = s["quality_real"]
        out += _seed_table(
            "Input normalisation on real structure",
            q,
            "inputs",
            lambda r: r["normalization"],
            [
                ("SSIM", _score("ssim_gt")),
                ("PSNR (dB)", _score("psnr_gt", ".2f")),
                ("background", _score("background")),
            ],
        )
        first = next((r for r in q["runs"] if r.get("status") == "ok"), None)
        if first:
            out += [
                "",
                f"For comparison, seed {first['seed']}: the input scores SSIM {first['input']['ssim_gt']:.3f}, "
                f"PSNR {first['input']['psnr_gt']:.2f} dB, background {first['input']['background']:.3f}; "
                f"the target label SSIM {first['target']['ssim_gt']:.3f}, PSNR "
                f"{first['target']['psnr_gt']:.2f} dB, background {first['target']['background']:.3f}.",
            ]
    if "quality_variants" in s:
        q = s["quality_variants"]
        out += [
            "",
            f"**Changes tried to the workshop profile** (measured {q['measured']}): {q['description']}.",
            "",
            "| variant | what | steps | SSIM | PSNR (dB) |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        out += [
            f"| {r['variant']} | {r['what']} | {_fmt(r['steps'])} | {r['ssim_gt']:.3f} | {r['psnr_gt']:.2f} |"
            for r in q["runs"]
        ]
    if "train" in s:
        out += [
            "",
            f"**Training step per profile** (measured {s['train']['measured']}).",
            "",
            "| profile | parameters | s/step | one training (min, estimate) | peak memory (MB) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        out += [
            f"| {r['profile']} | {r['n_parameters']} | {r['seconds_per_step']:.3f} | "
            f"{r['estimated_training_minutes']:.1f} | {r['peak_memory_mb']:.0f} |"
            for r in s["train"]["profiles"]
        ]
    if "speedups" in s:
        sp = s["speedups"]
        out += [
            "",
            f"**What was tried to speed up a step** (measured {sp['measured']}): {sp['description']}.",
            "",
            "| variant | median s/step | wall s/step | speed-up (median) | peak memory (MB) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for r in sp["variants"]:
            if "error" in r:
                out.append(f"| {r['variant']} | failed | | | |")
            else:
                out.append(
                    f"| {r['variant']} | {r['seconds_per_step_median']:.3f} | {r['seconds_per_step_wall']:.3f} | "
                    f"{r['speedup_vs_baseline']:.2f}x | {r['peak_memory_mb']:.0f} |"
                )
    if "losses" in s:
        out += [
            "",
            f"**Loss cost** (measured {s['losses']['measured']}).",
            "",
            "| loss | s/step | / l1 |",
            "| --- | ---: | ---: |",
        ]
        out += [
            f"| {r['loss']} | {r['seconds_per_step']:.3f} | {r['relative_to_l1']:.2f} |" for r in s["losses"]["losses"]
        ]
    if "drift" in s:
        out += [
            "",
            f"**Drift** (measured {s['drift']['measured']}).",
            "",
            "| method | ms/pair | RMS error (px) | max error (px) |",
            "| --- | ---: | ---: | ---: |",
        ]
        out += [
            f"| {k} | {1000 * v['seconds_per_pair']:.1f} | {v['rms_error_px']:.3f} | {v['max_error_px']:.3f} |"
            for k, v in s["drift"]["methods"].items()
        ]
        paper = s["drift"].get("ssim_per_patch")
        if paper:
            out += [
                f"| ssim, computed per patch as the paper describes (skimage, {paper['pairs']} actin pairs) | "
                f"{1000 * paper['seconds_per_pair']:.0f} | same shift as ssim: "
                f"{'yes' if paper['same_shift_as_ssim'] else '**no**'} | |",
                "",
                "`ssim` computes the paper's search exactly (tests/test_drift.py) from one SSIM map per shift "
                f"instead of 12,100 patch SSIMs: {s['drift']['ssim_speedup_over_per_patch']}x faster than the "
                "per-patch computation. `phase` is "
                f"{s['drift']['phase_speedup_over_ssim_per_patch']}x faster than the per-patch computation and "
                f"{s['drift']['phase_speedup_over_ssim']}x faster than `ssim` as computed here.",
            ]
    if "predict" in s:
        p = s["predict"]
        out += [
            "",
            f"**Prediction** (measured {p['measured']}): {p['size']} x {p['size']} px in "
            f"{p['n_tiles'][0]} x {p['n_tiles'][1]} tiles, {p['seconds']:.1f} s = {p['mpix_per_s']:.2f} MPix/s, "
            f"peak memory {p['peak_memory_mb']:.0f} MB.",
        ]
    if "simulate" in s:
        sizes = s["simulate"]["sizes"]
        out += [
            "",
            f"**Simulator** (measured {s['simulate']['measured']}): image pairs per second, "
            + ", ".join(f"{k} px: {v['pairs_per_second_mean_over_structures']:.2f}" for k, v in sizes.items())
            + " (mean over structures).",
        ]
    if "sweep" in s:
        w = s["sweep"]
        out += [
            "",
            f"**Sweep scaling** (measured {w['measured']}): "
            + ", ".join(f"{r['workers']} worker(s) {r['trainings_per_hour']:.0f} trainings/hour" for r in w["runs"])
            + f" (x{w['speedup_2_workers']:.2f}).",
        ]
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
