"""Specification of l2l_helpers.settings: the base of every typed group of settings."""

from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any, Literal

import pytest

from l2l_helpers.settings import Settings, SettingsError


@dataclass(frozen=True)
class Inner(Settings):
    steps: int = 10


@dataclass(frozen=True)
class Demo(Settings):
    epochs: int = 10
    learning_rate: float = 0.001
    residual: bool = False
    loss: Literal["mae", "mse"] = "mae"
    percentiles: tuple[float, float] = (1.0, 99.8)
    note: str | None = None
    inner: Inner = Inner()


def test_values_are_frozen():
    with pytest.raises(FrozenInstanceError):
        Demo().epochs = 3


def test_a_fractional_value_for_a_whole_number_setting_is_refused_by_name():
    with pytest.raises(SettingsError, match=r"epochs must be a whole number, got 2.7"):
        Demo(epochs=2.7)


def test_a_whole_number_for_a_float_setting_is_stored_as_float():
    assert Demo(learning_rate=1).learning_rate == 1.0 and isinstance(Demo(learning_rate=1).learning_rate, float)


def test_a_number_for_a_flag_is_refused():
    with pytest.raises(SettingsError, match="residual must be True or False"):
        Demo(residual=1)


def test_a_choice_outside_the_allowed_names_lists_them():
    with pytest.raises(SettingsError, match=r"loss must be one of 'mae', 'mse', got 'l3'"):
        Demo(loss="l3")


def test_replace_refuses_an_unknown_setting_and_names_the_known_ones():
    with pytest.raises(SettingsError, match=r"unknown Demo setting 'epoch'; known: epochs, learning_rate"):
        Demo().replace(epoch=3)


def test_replace_ignores_none_so_unset_options_pass_through():
    assert Demo().replace(epochs=None, learning_rate=0.01) == Demo(learning_rate=0.01)


def test_json_round_trip_keeps_tuples_and_nested_settings():
    demo = Demo(percentiles=(2.0, 99.0), inner=Inner(steps=3), note="x")
    assert Demo.from_json(demo.to_json()) == demo


def test_from_dict_refuses_unknown_names():
    with pytest.raises(SettingsError, match="unknown Demo setting 'speed'"):
        Demo.from_dict({"speed": 2})


def test_tuple_with_the_wrong_length_is_refused():
    with pytest.raises(SettingsError, match="percentiles must have 2 values"):
        Demo(percentiles=(1.0,))


def test_differences_name_nested_settings_by_their_path():
    assert Demo().differences(Demo(epochs=3, inner=Inner(steps=4))) == ["epochs: 10 -> 3", "inner.steps: 10 -> 4"]


@dataclass(frozen=True)
class WithData(Settings):
    overrides: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def test_a_json_data_setting_keeps_a_copy_of_the_dict_given():
    given = {"epochs": 2, "nested": {"steps": 1}}
    demo = WithData(overrides=given)
    given["epochs"], given["nested"]["steps"] = 3, 5
    assert demo.overrides == {"epochs": 2, "nested": {"steps": 1}}


def test_a_json_data_setting_stores_tuples_as_lists():
    assert WithData(overrides={"shape": (1, 2)}).overrides == {"shape": [1, 2]}


def test_to_dict_returns_a_copy_of_a_json_data_setting():
    demo = WithData(overrides={"nested": {"steps": 1}})
    demo.to_dict()["overrides"]["nested"]["steps"] = 9
    assert demo.overrides == {"nested": {"steps": 1}}


def test_a_json_data_setting_refuses_what_is_not_a_dict_by_name():
    with pytest.raises(SettingsError, match="overrides must be a dict, got 3"):
        WithData(overrides=3)


def test_a_json_data_setting_refuses_values_that_are_not_json_data():
    with pytest.raises(SettingsError, match="overrides must be JSON data"):
        WithData(overrides={"when": object()})
    with pytest.raises(SettingsError, match="overrides must be JSON data"):
        WithData(overrides={"rate": float("nan")})


def test_a_json_data_setting_refuses_keys_that_are_not_text():
    with pytest.raises(SettingsError, match="overrides must have text keys"):
        WithData(overrides={1: 2})


def test_a_typed_dict_setting_checks_every_value_by_its_key():
    assert WithData(counts={"a": 2}).counts == {"a": 2}
    with pytest.raises(SettingsError, match=r"counts\['a'\] must be a whole number, got 2.5"):
        WithData(counts={"a": 2.5})


def test_a_json_data_setting_round_trips_through_json():
    demo = WithData(overrides={"epochs": 2, "shape": [1, 2]}, counts={"a": 1})
    assert WithData.from_json(demo.to_json()) == demo
