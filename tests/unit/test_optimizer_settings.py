"""Optimizer settings: validation errors name the field and suggest the right spelling."""

import pytest

from optimizer import Settings, SettingsError


def test_defaults_are_bayes_with_no_seed():
    settings = Settings.from_dict({})
    assert settings.type == "bayes" and settings.seed is None and settings.initial_points is None


def test_round_trip_through_dict():
    settings = Settings.from_dict({"type": "sobol", "seed": 7, "initial_points": 12})
    assert Settings.from_dict(settings.to_dict()) == settings


def test_unknown_key_suggests_the_closest_setting():
    with pytest.raises(SettingsError) as err:
        Settings.from_dict({"sede": 3})
    assert err.value.field == "sede"
    assert "did you mean 'seed'" in err.value.message


def test_seed_must_be_an_integer():
    with pytest.raises(SettingsError) as err:
        Settings.from_dict({"seed": "abc"})
    assert err.value.field == "seed"
    assert err.value.message == "must be an integer, got 'abc'"
    assert str(err.value) == "seed: must be an integer, got 'abc'"


def test_boolean_is_not_accepted_as_an_integer():
    with pytest.raises(SettingsError, match="initial_points"):
        Settings.from_dict({"initial_points": True})


def test_unknown_type_suggests_the_closest_strategy():
    with pytest.raises(SettingsError) as err:
        Settings.from_dict({"type": "bayesian"})
    assert err.value.field == "type" and "did you mean 'bayes'" in err.value.message


@pytest.mark.parametrize(
    "raw, field",
    [({"initial_points": 0}, "initial_points"), ({"seed": -1}, "seed"), ({"xi": "a"}, "xi")],
)
def test_out_of_range_values_name_their_field(raw, field):
    with pytest.raises(SettingsError) as err:
        Settings.from_dict(raw)
    assert err.value.field == field


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


def test_trust_region_settings_are_validated():
    assert Settings.from_dict({"trust_region": False, "global_every": 0}).trust_region is False
    with pytest.raises(SettingsError) as err:
        Settings.from_dict({"trust_region": "yes"})
    assert err.value.field == "trust_region"
    with pytest.raises(SettingsError) as err:
        Settings.from_dict({"global_every": -1})
    assert err.value.field == "global_every"
