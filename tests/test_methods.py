"""Specifications of the one table of methods of lesson 09 (simulated and semi-synthetic validation)."""

import pytest

from l2l_helpers.experiments import methods


def test_every_method_is_either_trained_or_untrained():
    assert set(methods.TRAINED_METHODS) | set(methods.UNTRAINED_METHODS) == set(methods.METHODS)
    assert not set(methods.TRAINED_METHODS) & set(methods.UNTRAINED_METHODS)


def test_network_methods_are_named_kind_underscore_loss():
    for name in methods.TRAINED_METHODS:
        kind, loss = methods.kind_and_loss(name)
        assert name == "cyclegan" and (kind, loss) == ("cyclegan", "") or name == f"{kind}_{loss}"


def test_an_unknown_method_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown method 'l2l_mse'"):
        methods.kind_and_loss("l2l_mse")


def test_names_are_checked_and_put_in_table_order():
    assert methods.check_names(["target", "l2l_l1", "input"], list(methods.METHODS), "method") == [
        "input",
        "l2l_l1",
        "target",
    ]
    with pytest.raises(ValueError, match="no method given"):
        methods.check_names([], list(methods.METHODS), "method")
