"""Profiles come from L2L_PROFILE; results go below L2L_RESULTS_DIR."""

import pytest

from l2l_helpers.settings import SettingsError
from l2l_helpers.training.profiles import (
    PATCH_SETTINGS,
    PROFILES,
    TRAIN_SETTINGS,
    CARESettings,
    care_settings,
    current_profile,
    profile_settings,
    results_dir,
)


def test_profiles_are_quick_workshop_paper_in_this_order():
    assert list(PROFILES) == ["quick", "workshop", "paper"]


def test_profile_names_work_as_a_sequence_of_names():
    assert "quick" in PROFILES and ", ".join(PROFILES) == "quick, workshop, paper"


def test_a_fractional_value_of_an_integer_setting_is_refused_with_its_name_and_value():
    with pytest.raises(ValueError, match="epochs must be a whole number, got 2.7"):
        profile_settings("quick", epochs=2.7)


def test_a_whole_float_is_accepted_for_an_integer_setting():
    assert profile_settings("quick", epochs=3.0)["epochs"] == 3


def test_an_integer_is_accepted_for_a_float_setting():
    value = profile_settings("quick", learning_rate=1)["learning_rate"]
    assert value == 1.0 and isinstance(value, float)


def test_a_value_that_is_not_a_number_is_refused_with_its_name():
    with pytest.raises(ValueError, match="batch_size must be a number"):
        profile_settings("quick", batch_size="many")


@pytest.mark.parametrize("value, expected", [(False, False), ("no", False), ("true", True), (1, True)])
def test_a_switch_setting_accepts_booleans_and_their_spellings(value, expected):
    assert profile_settings("quick", unet_residual=value)["unet_residual"] is expected


def test_a_switch_setting_refuses_other_values_with_its_name():
    with pytest.raises(ValueError, match="unet_residual must be True or False, got 2"):
        profile_settings("quick", unet_residual=2)


def test_the_paper_profile_keeps_the_papers_residual_unet():
    assert PROFILES["paper"].unet_residual is True


def test_the_workshop_profile_flips_and_rotates_patches_and_the_paper_profile_does_not():
    assert PROFILES["workshop"].flip_rotate is True and PROFILES["paper"].flip_rotate is False


def test_the_paper_profile_scales_inputs_to_percentiles_as_the_paper_did():
    assert PROFILES["paper"].input_normalization == "percentile"


def test_every_input_normalization_of_the_profiles_is_one_make_training_data_knows():
    from l2l_helpers.training.prepare import INPUT_NORMALIZATIONS

    assert {p.input_normalization for p in PROFILES.values()} <= set(INPUT_NORMALIZATIONS)


def test_an_input_normalization_can_be_overridden_by_name():
    assert profile_settings("workshop", input_normalization="percentile")["input_normalization"] == "percentile"


def test_an_unknown_input_normalization_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="input_normalization must be one of percentile, mean_std, got 'minmax'"):
        profile_settings("quick", input_normalization="minmax")


def test_profiles_are_care_settings_and_the_defaults_are_the_workshop_profile():
    assert all(isinstance(p, CARESettings) for p in PROFILES.values()) and CARESettings() == PROFILES["workshop"]


def test_the_dict_view_lists_the_settings_in_their_recorded_order():
    assert list(profile_settings("workshop")) == [
        "patch_size",
        "n_patches_per_image",
        "unet_n_depth",
        "unet_n_first",
        "unet_kern_size",
        "unet_residual",
        "epochs",
        "steps_per_epoch",
        "batch_size",
        "learning_rate",
        "flip_rotate",
        "input_normalization",
    ]


def test_the_dict_view_is_the_typed_settings_as_json_data():
    assert profile_settings("paper", epochs=3) == care_settings("paper", epochs=3).to_dict()


def test_care_settings_start_from_settings_as_well_as_from_a_profile_name():
    assert care_settings(PROFILES["quick"], epochs="4") == PROFILES["quick"].replace(epochs=4)


def test_an_unknown_setting_is_refused_even_when_it_is_unset():
    with pytest.raises(ValueError, match="unknown training setting 'epoch'"):
        care_settings("quick", epoch=None)


def test_the_profiles_are_frozen():
    with pytest.raises(AttributeError):
        PROFILES["quick"].epochs = 1


def test_settings_round_trip_through_json():
    settings = care_settings("quick", input_normalization="mean_std")
    assert CARESettings.from_json(settings.to_json()) == settings


def test_a_wrong_typed_setting_is_refused_when_settings_are_made():
    with pytest.raises(SettingsError, match="unet_residual must be True or False"):
        CARESettings(unet_residual="yes")


def test_patch_and_training_settings_divide_the_settings_between_them():
    assert sorted(PATCH_SETTINGS + TRAIN_SETTINGS) == sorted(CARESettings.names())


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
