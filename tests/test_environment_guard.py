"""The checkout's conftest.py: a test that leaks an L2L_* variable fails (and the variable is put back)."""

import os
import textwrap


def test_a_test_that_deletes_l2l_profile_fails_and_the_variable_is_restored(pytester, monkeypatch):
    with open(os.path.join(os.path.dirname(__file__), os.pardir, "conftest.py")) as f:
        pytester.makeconftest(f.read())
    monkeypatch.setenv("L2L_PROFILE", "quick")
    pytester.makepyfile(test_leak=textwrap.dedent("""
        import os

        def test_leaks():
            del os.environ["L2L_PROFILE"]

        def test_after():
            assert os.environ["L2L_PROFILE"] == "quick"
    """))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*changed environment variables without restoring them: L2L_PROFILE*"])
