"""The course runner executes notebooks headless and reports what ran."""

import json

import nbformat
import pytest

from l2l_helpers.course.runner import execute_notebook, find_notebooks, format_summary, kernel_results_dir, run_course


def _write_notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["widgets"] = {"state": "stale"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A test notebook")] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def course_dir(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _write_notebook(folder / "00_ok.ipynb", "import os\nprint('profile', os.environ['L2L_PROFILE'])")
    _write_notebook(folder / "01_fails.ipynb", "raise RuntimeError('broken on purpose')")
    (folder / "scratch.ipynb").write_text("not a course notebook")
    return folder


def test_find_notebooks_keeps_numbered_notebooks_in_order(course_dir):
    assert [p.name for p in find_notebooks(course_dir)] == ["00_ok.ipynb", "01_fails.ipynb"]


def test_find_notebooks_filters_by_prefix(course_dir):
    assert [p.name for p in find_notebooks(course_dir, only=["01"])] == ["01_fails.ipynb"]


def test_find_notebooks_without_match_names_the_folder(course_dir):
    with pytest.raises(FileNotFoundError, match="notebooks.*99"):
        find_notebooks(course_dir, only=["99"])


def test_execute_notebook_passes_the_profile_to_the_kernel(course_dir):
    nb, error = execute_notebook(course_dir / "00_ok.ipynb", profile="quick")
    assert error is None
    assert "profile quick" in nb.cells[1].outputs[0]["text"]


def test_execute_notebook_drops_saved_widget_state(course_dir):
    nb, _ = execute_notebook(course_dir / "00_ok.ipynb", profile="quick")
    assert "widgets" not in nb.metadata


def test_execute_notebook_reports_the_failing_error(course_dir):
    _, error = execute_notebook(course_dir / "01_fails.ipynb", profile="quick")
    assert "broken on purpose" in error


def test_execute_notebook_rejects_unknown_profile(course_dir):
    with pytest.raises(ValueError, match="profile"):
        execute_notebook(course_dir / "00_ok.ipynb", profile="fast")


def test_run_course_writes_notebooks_html_and_summary(course_dir, tmp_path):
    out = tmp_path / "out"
    summary = run_course(course_dir, out, profile="quick")
    assert [e["status"] for e in summary["notebooks"]] == ["ok", "failed"]
    for name in ("00_ok.ipynb", "00_ok.html", "01_fails.ipynb", "summary.md", "summary.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "summary.json").read_text())["profile"] == "quick"


def test_run_course_leaves_sources_untouched_unless_inplace(course_dir, tmp_path):
    before = (course_dir / "00_ok.ipynb").read_bytes()
    run_course(course_dir, tmp_path / "out", profile="quick", only=["00"])
    assert (course_dir / "00_ok.ipynb").read_bytes() == before
    run_course(course_dir, tmp_path / "out", profile="quick", only=["00"], inplace=True)
    assert nbformat.read(course_dir / "00_ok.ipynb", as_version=4).cells[1].outputs


def test_run_course_refuses_to_write_into_the_notebooks_folder(course_dir):
    with pytest.raises(ValueError, match="differ"):
        run_course(course_dir, course_dir, profile="quick")


def test_format_summary_counts_successes():
    text = format_summary(
        {
            "profile": "quick",
            "notebooks": [
                {"notebook": "a", "status": "ok", "seconds": 1.0, "error": None},
                {"notebook": "b", "status": "failed", "seconds": 2.0, "error": "boom"},
            ],
        }
    )
    assert "1 of 2 notebooks ran without error" in text
    assert "failed: boom" in text


def test_execute_notebook_gives_the_kernel_a_results_dir_relative_to_the_notebook(course_dir, tmp_path):
    _write_notebook(course_dir / "02_paths.ipynb", "import os\nprint(os.environ['L2L_RESULTS_DIR'])")
    nb, error = execute_notebook(
        course_dir / "02_paths.ipynb", profile="quick", results_root=tmp_path / "out" / "results"
    )
    assert error is None
    assert nb.cells[1].outputs[0]["text"].strip() == "../out/results"


def test_kernel_results_dir_outside_the_checkout_stays_absolute(tmp_path):
    assert kernel_results_dir(tmp_path / "results", "/nowhere/notebooks") == str(tmp_path / "results")


def test_execute_notebook_keeps_finished_text_progress_bars(course_dir):
    _write_notebook(
        course_dir / "02_bar.ipynb",
        "from l2l_helpers.course.progress import progress\nfor _ in progress(range(5), desc='steps'):\n    pass",
    )
    nb, error = execute_notebook(course_dir / "02_bar.ipynb", profile="quick")
    assert error is None
    outputs = nb.cells[1].outputs
    assert [o["output_type"] for o in outputs] == ["stream"]
    assert "5/5" in outputs[0]["text"] and "0/5" not in outputs[0]["text"]


def test_run_course_records_the_peak_memory_of_the_kernel(course_dir, tmp_path):
    _write_notebook(
        course_dir / "02_memory.ipynb",
        "import numpy as np, time\nblock = np.ones(300 * 2**20, dtype=np.uint8)\ntime.sleep(1)",
    )
    summary = run_course(course_dir, tmp_path / "out", profile="quick", only=["02"], html=False)
    entry = summary["notebooks"][0]
    assert entry["status"] == "ok" and entry["peak_memory_mb"] >= 300
    assert entry["peak_rss_sum_mb"] >= entry["peak_memory_mb"]  # RSS counts shared pages once per process
    assert "peak memory (MB)" in (tmp_path / "out" / "summary.md").read_text()


def test_run_course_saves_results_where_it_is_told(course_dir, tmp_path):
    _write_notebook(
        course_dir / "02_saves.ipynb",
        "from l2l_helpers.training.profiles import results_dir\n(results_dir('02_saves') / 'done.txt').write_text('x')",
    )
    run_course(course_dir, tmp_path / "out", profile="quick", only=["02"], html=False, results=course_dir / "results")
    assert (course_dir / "results" / "quick" / "02_saves" / "done.txt").is_file()
    assert not (tmp_path / "out" / "results").exists()


def test_executed_figures_are_stored_as_jpeg(course_dir):
    _write_notebook(course_dir / "02_figure.ipynb", "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()")
    nb, error = execute_notebook(course_dir / "02_figure.ipynb", profile="quick")
    assert error is None
    kinds = {k for o in nb.cells[1].outputs for k in o.get("data", {})}
    assert "image/jpeg" in kinds and "image/png" not in kinds


def test_warnings_in_saved_outputs_name_no_machine_specific_files():
    from l2l_helpers.course.runner import portable_paths

    text = (
        "/tmp/ipykernel_13579/1520379849.py:4: UserWarning: 7 of 24 images have no foreground\n"
        "/srv/checkout/l2l_helpers/training/train.py:156: UserWarning: ms5: 64 px patches are too small\n"
    )
    out = portable_paths(text, package_root="/srv/checkout")
    assert out.startswith("<cell>:4: UserWarning") and "\nl2l_helpers/training/train.py:156: UserWarning" in out
    assert "/tmp/" not in out and "/srv/" not in out


def test_run_course_without_progress_draws_no_bar_but_reports_each_notebook(course_dir, tmp_path, capsys):
    run_course(course_dir, tmp_path / "out", profile="quick", only=["00"], progress=False)
    captured = capsys.readouterr()
    assert "course (quick)" not in captured.err
    assert "00_ok.ipynb: ok in" in captured.out
