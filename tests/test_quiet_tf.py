"""TensorFlow's start-up notices are hidden from learners; real errors are not."""

import os
import subprocess
import sys
import textwrap

import pytest

from l2l_helpers.course._quiet_tf import filtered_stderr, is_notice

NOTICES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795558657.032160   30943 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. "
    "To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1795558657.033835   30943 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
    "GPU will not be used.",
    "I0000 00:00:1795558657.137598   30943 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, "
    "rebuild TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1795558659.164967   30943 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    "Failed call to cuInit: UNKNOWN ERROR (303)",
]
NOISE_MARKS = (
    "absl::InitializeLog",
    "oneDNN custom operations",
    "cudart_stub",
    "cpu_feature_guard",
    "To enable the following instructions",
    "cuInit",
)

# A stand-in for TensorFlow: its import and first device listing print the notices and one real error.
FAKE_TF = """
import os
for line in {notices!r}[:5]:
    os.write(2, (line + "\\n").encode())
os.write(2, b"E0000 00:00:1.0 1 real_op.cc:7] a genuine error during the import\\n")

class config:
    @staticmethod
    def list_physical_devices():
        os.write(2, ({notices!r}[5] + "\\n").encode())
        return ["CPU"]
"""


@pytest.mark.parametrize("line", NOTICES)
def test_known_start_up_notices_are_recognised(line):
    assert is_notice(line)


@pytest.mark.parametrize(
    "line",
    [
        "E0000 00:00:1795558661.527095   30943 util.cc:131] some other failure",
        "Traceback (most recent call last):",
        "ValueError: To enable the following instructions is not a full notice",
    ],
)
def test_other_lines_are_not_notices(line):
    assert not is_notice(line)


def _run(code, tmp_path, **env):
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]), **env)
    full_env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=tmp_path,
        timeout=300,
    )


@pytest.fixture
def fake_tensorflow(tmp_path):
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text(FAKE_TF.format(notices=NOTICES))
    return tmp_path


def test_filtered_stderr_drops_notices_and_keeps_other_lines(tmp_path):
    run = _run(
        f"""
        import os
        from l2l_helpers.course._quiet_tf import filtered_stderr
        with filtered_stderr():
            for line in {NOTICES!r}:
                os.write(2, (line + "\\n").encode())
            os.write(2, b"a real error\\n")
        os.write(2, b"after the block\\n")
        """,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == "a real error\nafter the block\n"


def test_filtered_stderr_reemits_what_was_written_before_an_exception(capfd):
    with pytest.raises(RuntimeError):
        with filtered_stderr():
            os.write(2, b"written before the failure\n")
            raise RuntimeError("boom")
    assert "written before the failure" in capfd.readouterr().err


@pytest.mark.parametrize("subpackage", ["training", "restoring", "experiments"])
def test_first_tensorflow_import_after_a_subpackage_that_uses_it_hides_the_notices_but_not_a_real_error(
    fake_tensorflow, subpackage
):
    run = _run(f"import l2l_helpers.{subpackage}, tensorflow", fake_tensorflow)
    assert run.returncode == 0, run.stderr
    assert "a genuine error during the import" in run.stderr
    assert not [m for m in NOISE_MARKS if m in run.stderr], run.stderr


def test_importing_the_package_alone_leaves_tensorflows_output_alone(fake_tensorflow):
    run = _run("import l2l_helpers, l2l_helpers.data, l2l_helpers.scoring, tensorflow", fake_tensorflow)
    assert run.returncode == 0, run.stderr
    assert "absl::InitializeLog" in run.stderr and "cpu_feature_guard" in run.stderr


def test_tensorflow_imported_by_another_module_is_quiet_too(fake_tensorflow):
    (fake_tensorflow / "uses_tf.py").write_text("import tensorflow\n")
    run = _run("import l2l_helpers.training, uses_tf", fake_tensorflow)
    assert run.returncode == 0, run.stderr
    assert not [m for m in NOISE_MARKS if m in run.stderr], run.stderr


def test_quiet_import_keeps_tensorflows_own_loader_and_removes_the_hook(fake_tensorflow):
    run = _run(
        """
        import sys, l2l_helpers.training, tensorflow
        from l2l_helpers.course._quiet_tf import _TensorFlowFinder, _QuietLoader
        print(type(tensorflow.__loader__).__name__, type(tensorflow.__spec__.loader).__name__,
              any(isinstance(f, _TensorFlowFinder) for f in sys.meta_path))
        """,
        fake_tensorflow,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["SourceFileLoader", "SourceFileLoader", "False"]


def test_l2l_tf_logs_all_shows_every_line(fake_tensorflow):
    run = _run("import l2l_helpers.training, tensorflow", fake_tensorflow, L2L_TF_LOGS="all")
    assert "cpu_feature_guard" in run.stderr


def test_real_tensorflow_imported_as_a_notebook_does_prints_no_notices(tmp_path):
    pytest.importorskip("tensorflow")
    run = _run(
        "from l2l_helpers.training import train; import tensorflow as tf; "
        "print(len(tf.config.list_physical_devices()) > 0)",
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "True"
    assert not [m for m in NOISE_MARKS if m in run.stderr], run.stderr
