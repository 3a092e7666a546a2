"""The benchmark suite's report (benchmarks/suite.py): targets, tables, README block. No benchmark is run."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "benchmarks" / "suite.py"


@pytest.fixture(scope="module")
def suite():
    spec = importlib.util.spec_from_file_location("l2l_benchmark_suite", SUITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_lower_is_better_target_is_met_at_or_below_its_limit(suite):
    assert suite._target("s", 2.0, 2.0)["met"] is True
    assert suite._target("s", 2.1, 2.0)["met"] is False


def test_a_higher_is_better_target_is_met_at_or_above_its_limit(suite):
    assert suite._target("x", 50, 50, better="higher")["met"] is True
    assert suite._target("x", 49.9, 50, better="higher")["met"] is False


def test_a_target_without_a_measurement_is_neither_met_nor_missed(suite):
    assert suite._target("x", None, 1)["met"] is None


def test_the_report_lists_every_target_with_its_verdict(suite):
    results = {
        "machine": {"cpu": "CPU", "cores": 2, "versions": {}},
        "sections": {
            "drift": {
                "measured": "2026-11-28",
                "targets": [suite._target("phase faster than ssim (x)", 80.0, 50, better="higher")],
                "methods": {"phase": {"seconds_per_pair": 0.002, "rms_error_px": 0.05, "max_error_px": 0.1}},
            }
        },
    }
    text = suite.format_markdown(results)
    assert "| drift | phase faster than ssim (x) | 80 | ≥ 50 | yes |" in text
    assert "| phase | 2.0 | 0.050 | 0.100 |" in text


def test_the_readme_block_is_replaced_between_its_markers_only(suite, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{suite.MARK_START}\nold\n{suite.MARK_END}\nafter\n")
    assert suite.update_readme("new table\n", readme)
    assert readme.read_text() == f"before\n{suite.MARK_START}\nnew table\n{suite.MARK_END}\nafter\n"


def test_a_readme_without_markers_is_left_alone(suite, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    assert not suite.update_readme("table\n", readme)
    assert readme.read_text() == "no markers\n"


def _report(suite, **sections):
    return suite.format_markdown({"machine": {"cpu": "CPU", "cores": 2, "versions": {}}, "sections": sections})


def test_the_drift_table_compares_phase_with_the_ssim_search_computed_patch_by_patch(suite):
    drift = {
        "measured": "2026-11-28",
        "targets": [],
        "methods": {
            "phase": {"seconds_per_pair": 0.02, "rms_error_px": 0.07, "max_error_px": 0.15},
            "ssim": {"seconds_per_pair": 0.09, "rms_error_px": 0.47, "max_error_px": 0.88},
        },
        "ssim_per_patch": {"seconds_per_pair": 12.0, "pairs": 2, "same_shift_as_ssim": True},
        "phase_speedup_over_ssim": 4.5,
        "phase_speedup_over_ssim_per_patch": 600,
        "ssim_speedup_over_per_patch": 133,
    }
    text = _report(suite, drift=drift)
    assert "| 12000 | same shift as ssim: yes |" in text
    assert "133x faster than the per-patch computation" in text and "600x faster" in text and "4.5x faster" in text


def test_the_seed_spread_table_gives_each_tools_mean_and_range(suite):
    runs = [
        {
            "tool": "workshop",
            "seed": s,
            "status": "ok",
            "train_seconds": 60.2,
            "steps": 850,
            "ssim_gt": v,
            "psnr_gt": 30.5,
        }
        for s, v in enumerate((0.80, 0.81, 0.82))
    ]
    seeds = {
        "measured": "2026-11-28",
        "description": "spread",
        "runs": runs,
        "targets": [],
        "means": {"workshop": {"ssim_gt": 0.81, "psnr_gt": 30.5, "ssim_min": 0.80, "ssim_max": 0.82}},
    }
    text = _report(suite, quality_seeds=seeds)
    assert "| workshop | 2 | 60 | 850 | 0.820 | 30.50 |" in text
    assert "| workshop: mean (SSIM range) | | | | 0.810 (0.800-0.820) | 30.50 |" in text


def test_the_real_structure_table_gives_each_normalisations_runs_mean_and_the_input_for_comparison(suite):
    scores = {"ssim_gt": 0.29, "psnr_gt": 22.4, "background": 0.22, "contrast": 0.71}
    runs = [
        {
            "normalization": "percentile",
            "seed": 0,
            "status": "ok",
            "train_seconds": 41.3,
            "ssim_gt": 0.578,
            "psnr_gt": 28.15,
            "background": 0.065,
            "contrast": 0.77,
            "input": scores,
            "target": scores,
        },
        {"normalization": "mean_std", "seed": 0, "status": "no data", "error": "no network"},
    ]
    real = {
        "measured": "2026-11-29",
        "description": "real",
        "runs": runs,
        "targets": [],
        "means": {
            "percentile": {
                "ssim_gt": 0.578,
                "psnr_gt": 28.15,
                "background": 0.065,
                "contrast": 0.77,
                "ssim_min": 0.578,
                "ssim_max": 0.578,
            }
        },
    }
    text = _report(suite, quality_real=real)
    assert "| percentile | 0 | 41 | 0.578 | 28.15 | 0.065 |" in text
    assert "| mean_std | 0 | no data | | | |" in text
    assert "| percentile: mean (SSIM range) | | | 0.578 (0.578-0.578) | 28.15 | 0.065 |" in text
    assert "the input scores SSIM 0.290, PSNR 22.40 dB, background 0.220" in text


def test_seed_means_leave_out_runs_that_did_not_finish_and_keep_the_ssim_range(suite):
    rows = [
        {"n": "a", "status": "ok", "ssim_gt": 0.5, "psnr_gt": 20.0},
        {"n": "a", "status": "ok", "ssim_gt": 0.7, "psnr_gt": 22.0},
        {"n": "a", "status": "failed"},
        {"n": "b", "status": "no data"},
    ]
    means = suite._seed_means(rows, lambda r: r["n"], ("ssim_gt", "psnr_gt"))
    assert means == {"a": {"ssim_gt": 0.6, "psnr_gt": 21.0, "ssim_min": 0.5, "ssim_max": 0.7}}


def test_the_notebook_table_gives_the_summed_pss_and_the_summed_rss(suite):
    nbs = {
        "measured": "2026-11-28",
        "profile": "workshop",
        "targets": [],
        "notebooks": [
            {
                "notebook": "07_how_many_pairs.ipynb",
                "status": "ok",
                "seconds": 49.0,
                "peak_memory_mb": 1400,
                "peak_rss_sum_mb": 2084,
            }
        ],
    }
    text = _report(suite, notebooks_workshop=nbs)
    assert "| 07_how_many_pairs.ipynb | ok | 49 | 1400 | 2084 |" in text


def test_the_per_patch_ssim_search_finds_the_shift_of_the_ssim_method(monkeypatch):
    import numpy as np
    from scipy import ndimage as ndi

    monkeypatch.syspath_prepend(str(SUITE.parent))
    from bench_drift import ssim_search_per_patch

    from l2l_helpers.pairs.drift import estimate_drift

    rng = np.random.default_rng(3)
    ref = ndi.gaussian_filter(rng.random((96, 96)), 2)
    mov = ndi.shift(ref, (1, -2), mode="nearest")
    shift = ssim_search_per_patch(ref, mov, max_shift=3, n_patches=6, patch_size=30, seed=1)
    assert shift == (-1, 2)
    assert np.allclose(shift, estimate_drift(ref, mov, method="ssim", max_shift=3, n_patches=6, patch_size=30, seed=1))


def test_the_quality_targets_of_the_committed_runs_are_the_committed_targets(suite):
    import json

    quality = json.loads((SUITE.parent / "results.json").read_text())["sections"]["quality"]
    budgets = sorted({r["budget_min"] for r in quality["runs"] if "budget_min" in r})
    assert suite.quality_targets(quality["runs"], budgets) == quality["targets"]


def test_the_csbdeep_default_tool_trains_with_csbdeeps_config_defaults_without_flips(suite):
    assert suite.csbdeep_default_settings() == {
        "unet_n_depth": 2,
        "unet_n_first": 32,
        "unet_kern_size": 5,
        "unet_residual": True,
        "batch_size": 16,
        "learning_rate": 0.0004,
        "steps_per_epoch": 400,
        "flip_rotate": False,
    }


def test_the_committed_report_renders_unchanged_from_the_committed_results(suite):
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    assert suite.format_markdown(results) == (ROOT / "benchmarks" / "results.md").read_text()


def test_the_report_names_the_cpus_vector_extensions_and_its_speed_probe(suite):
    machine = {"cpu": "CPU", "cores": 2, "versions": {}, "cpu_family": 25, "cpu_flags": ["avx2"]}
    machine["probe"] = {"profile": "workshop", "seconds_per_step": 0.242, "matmul_gflops": 80.0}
    text = suite.format_markdown({"machine": machine, "sections": {}})
    assert "CPU family 25, vector extensions: avx2" in text
    assert "speed probe: 0.242 s per workshop training step, 80.0 GFLOP/s" in text
