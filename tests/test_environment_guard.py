"""The checkout's conftest.py: a leaked L2L_* variable fails its test (and is put back); figures are closed."""

import os
import textwrap


def test_a_test_that_deletes_l2l_profile_fails_and_the_variable_is_restored(pytester, monkeypatch):
    with open(os.path.join(os.path.dirname(__file__), os.pardir, "conftest.py")) as f:
        pytester.makeconftest(f.read())
    monkeypatch.setenv("L2L_PROFILE", "quick")
    pytester.makepyfile(
        test_leak=textwrap.dedent("""
        import os

        def test_leaks():
            del os.environ["L2L_PROFILE"]

        def test_after():
            assert os.environ["L2L_PROFILE"] == "quick"
    """)
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*changed environment variables without restoring them: L2L_PROFILE*"])


def test_figures_a_test_opens_are_closed_before_the_next_test(pytester):
    with open(os.path.join(os.path.dirname(__file__), os.pardir, "conftest.py")) as f:
        pytester.makeconftest(f.read())
    pytester.makepyfile(
        test_figures=textwrap.dedent("""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        def test_opens_a_figure():
            plt.figure()
            assert plt.get_fignums()

        def test_after():
            assert plt.get_fignums() == []
    """)
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
