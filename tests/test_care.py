"""Specification of l2l_helpers.training.care.seeded_batches: the batches a CARE training sees."""

import numpy as np
import pytest

from l2l_helpers.training.care import seeded_batches


def _patches(n=6, size=5):
    X = np.random.default_rng(0).random((n, size, size, 1)).astype(np.float32)
    return X, 3 * X + 1  # a target that tells which input it belongs to


def _symmetries(p):
    turns = [np.rot90(p, k, axes=(0, 1)) for k in range(4)]
    return turns + [t[:, ::-1] for t in turns]


def _first(X, Y, n_steps=4, batch_size=3, flip_rotate=False, start_epoch=0):
    gen = seeded_batches(X, Y, batch_size, seed=0, start_epoch=start_epoch, steps_per_epoch=2, flip_rotate=flip_rotate)
    return [next(gen) for _ in range(n_steps)]


def test_flipped_batches_turn_input_and_target_the_same_way():
    X, Y = _patches()
    for xb, yb in _first(X, Y, flip_rotate=True):
        np.testing.assert_allclose(yb, 3 * xb + 1, rtol=1e-6)


def test_flipped_batches_hold_the_unflipped_patches_in_the_same_order_each_turned_or_mirrored():
    X, Y = _patches()
    for (xf, _), (xu, _) in zip(_first(X, Y, flip_rotate=True), _first(X, Y)):
        for f, u in zip(xf, xu):
            assert any(np.array_equal(f, s) for s in _symmetries(u))


def test_flipping_draws_all_eight_symmetries_of_a_square():
    X, Y = _patches(n=1)
    seen = set()
    for xf, _ in _first(X, Y, n_steps=40, batch_size=1, flip_rotate=True):
        seen.add(next(i for i, s in enumerate(_symmetries(X[0])) if np.array_equal(xf[0], s)))
    assert seen == set(range(8))


def test_a_resumed_epoch_gets_the_same_flips():
    X, Y = _patches()
    uninterrupted = _first(X, Y, n_steps=4, flip_rotate=True)  # epochs 0 and 1, two steps each
    resumed = _first(X, Y, n_steps=2, flip_rotate=True, start_epoch=1)
    for (a, _), (b, _) in zip(uninterrupted[2:], resumed):
        assert np.array_equal(a, b)


def test_flipping_leaves_the_given_patches_unchanged():
    X, Y = _patches()
    X0, Y0 = X.copy(), Y.copy()
    _first(X, Y, flip_rotate=True)
    assert np.array_equal(X, X0) and np.array_equal(Y, Y0)


@pytest.mark.parametrize("channels", [1, 2])
def test_flipped_batches_keep_the_patch_shape_and_channels(channels):
    X = np.zeros((4, 8, 8, channels), np.float32)
    xb, yb = _first(X, X, n_steps=1, batch_size=4, flip_rotate=True)[0]
    assert xb.shape == yb.shape == (4, 8, 8, channels)
