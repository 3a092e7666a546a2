"""Profiles come from L2L_PROFILE; results go below L2L_RESULTS_DIR."""

import pytest

from l2l_helpers.profiles import current_profile, results_dir


def test_profile_defaults_to_workshop(monkeypatch):
    monkeypatch.delenv("L2L_PROFILE", raising=False)
    assert current_profile() == "workshop"


def test_profile_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("L2L_PROFILE", " Quick ")
    assert current_profile() == "quick"


def test_unknown_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv("L2L_PROFILE", "fast")
    with pytest.raises(ValueError, match="quick, workshop, paper"):
        current_profile()


def test_results_dir_is_created_below_the_environment_root_per_profile(monkeypatch, tmp_path):
    monkeypatch.setenv("L2L_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("L2L_PROFILE", "quick")
    path = results_dir("03_n2n_vs_l2l")
    assert path == tmp_path / "quick" / "03_n2n_vs_l2l" and path.is_dir()


def test_results_dir_keeps_profiles_apart(monkeypatch, tmp_path):
    monkeypatch.setenv("L2L_RESULTS_DIR", str(tmp_path))
    assert results_dir("02_drift_correction", profile="quick") != results_dir("02_drift_correction", profile="workshop")
