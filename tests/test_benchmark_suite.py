"""The benchmark suite's report (benchmarks/suite.py): targets, tables, README block. No benchmark is run."""

import importlib.util
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[1] / "benchmarks" / "suite.py"


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
    results = {"machine": {"cpu": "CPU", "cores": 2, "versions": {}}, "sections": {
        "drift": {"measured": "2026-11-28", "targets": [suite._target("phase faster than ssim (x)", 80.0, 50,
                                                                      better="higher")],
                  "methods": {"phase": {"seconds_per_pair": 0.002, "rms_error_px": 0.05, "max_error_px": 0.1}}}}}
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
