"""Specification of l2l_helpers.training.seeding: seeded blocks leave no global state behind."""

import random

import numpy as np
import pytest

from l2l_helpers.training.seeding import global_random_state, seeded

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


def test_the_same_seed_gives_the_same_numbers_in_every_generator():
    def draw():
        with seeded(4):
            return (random.random(), np.random.random(), float(tf.random.uniform(())), float(keras.random.uniform(())))

    assert draw() == draw()


def test_pythons_random_continues_where_it_stood():
    random.seed(1)
    expected = [random.random() for _ in range(2)]
    random.seed(1)
    first = random.random()
    with seeded(0):
        random.random()
    assert [first, random.random()] == expected


def test_numpys_global_generator_continues_where_it_stood():
    np.random.seed(1)
    expected = np.random.random(2)
    np.random.seed(1)
    first = np.random.random()
    with seeded(0):
        np.random.random()
    assert [first, np.random.random()] == list(expected)


def test_an_unset_tensorflow_seed_is_unset_again():
    from tensorflow.python.eager import context

    tf.random.set_seed(None)
    context.context()._seed = None
    with seeded(0):
        assert context.context()._seed == 0
    assert context.context()._seed is None


def test_a_set_tensorflow_seed_and_its_operation_seeds_are_restored():
    tf.random.set_seed(7)
    tf.random.uniform(())  # draws an operation seed
    before = global_random_state()
    with seeded(0):
        tf.random.uniform(())
    after = global_random_state()
    assert (
        (after["tf_seed"], after["tf_op_seeds"])
        == (before["tf_seed"], before["tf_op_seeds"])
        == (7, before["tf_op_seeds"])
    )
    tf.random.set_seed(None)


def test_kerass_global_seed_and_seed_generator_are_restored():
    from keras.src.backend.common import global_state

    keras.utils.set_random_seed(5)
    keras.random.uniform(())  # creates Keras' global SeedGenerator
    generator = global_state.get_global_attribute("global_seed_generator")
    with seeded(0):
        keras.random.uniform(())
        assert global_state.get_global_attribute("global_random_seed") == 0
    assert global_state.get_global_attribute("global_random_seed") == 5
    assert global_state.get_global_attribute("global_seed_generator") is generator


def test_op_determinism_is_switched_off_again():
    from tensorflow.python.framework import config

    config.disable_op_determinism()
    with seeded(0):
        assert config.is_op_determinism_enabled()
    assert not config.is_op_determinism_enabled()


def test_op_determinism_stays_on_if_it_was_on():
    from tensorflow.python.framework import config

    config.enable_op_determinism()
    try:
        with seeded(0):
            pass
        assert config.is_op_determinism_enabled()
    finally:
        config.disable_op_determinism()


def test_states_are_restored_after_an_exception():
    before = global_random_state()
    with pytest.raises(RuntimeError):
        with seeded(0):
            random.random()
            np.random.random()
            raise RuntimeError
    assert global_random_state() == before


def test_clearing_the_session_keeps_kerass_seed_and_earlier_models():
    from keras.src.backend.common import global_state

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    x = np.ones((1, 2), np.float32)
    expected = model.predict(x, verbose=0)
    keras.utils.set_random_seed(3)
    with seeded(0, clear_session=True):
        keras.layers.Dense(1)
    assert global_state.get_global_attribute("global_random_seed") == 3
    np.testing.assert_array_equal(model.predict(x, verbose=0), expected)


def test_a_seed_that_is_not_an_integer_is_refused():
    with pytest.raises(ValueError, match="seed must be an integer"):
        with seeded(1.5):
            pass


def _initial_kernel(draws_by_others):
    import keras

    with seeded(4):
        for _ in range(draws_by_others):  # e.g. a Dask worker's event loop, in another thread of the process
            random.random()
        return np.asarray(keras.initializers.GlorotUniform()((4, 3)))  # unseeded: Keras draws a seed


def test_kerass_initial_weights_do_not_depend_on_others_drawing_from_pythons_random():
    assert np.array_equal(_initial_kernel(0), _initial_kernel(5))


def test_kerass_initial_weights_do_not_depend_on_a_draw_by_others_while_the_seeds_are_set(monkeypatch):
    # another thread may draw from Python's random between set_random_seed's random.seed and the end of seeding
    # (once in a while a Dask worker's event loop did, and a network computed again differed)
    expected = _initial_kernel(0)
    seed_numpy = np.random.seed

    def seed_after_someone_drew(seed):
        random.random()
        seed_numpy(seed)

    monkeypatch.setattr(np.random, "seed", seed_after_someone_drew)
    assert np.array_equal(_initial_kernel(0), expected)


def test_keras_draws_its_default_seeds_from_pythons_random_again_after_the_block():
    from keras.src.random import seed_generator

    with seeded(0):
        pass
    assert seed_generator.python_random is random
