"""Specifications of l2l_helpers.training.losses."""

import warnings

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from l2l_helpers.training.losses import (  # noqa: E402
    LOSSES,
    MS_WEIGHTS,
    get_loss,
    loss_settings,
    min_patch_size,
    ms_ssim,
)

SSIM_LOSSES = ("ssim", "ms3", "ms5")


def fibres(size=64, seed=0, batch=1, channels=1):
    """Blurred random lines on a dark background, roughly in [0, 1]."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    out = np.zeros((batch, size, size, channels), np.float32)
    yy, xx = np.mgrid[:size, :size]
    for b in range(batch):
        for c in range(channels):
            img = np.zeros((size, size))
            for _ in range(8):
                angle, offset = rng.uniform(0, np.pi), rng.uniform(-size / 2, size / 2)
                dist = np.abs((xx - size / 2) * np.sin(angle) - (yy - size / 2) * np.cos(angle) - offset)
                img += dist < 1.0
            img = gaussian_filter(img, 1.5)
            out[b, :, :, c] = img / img.max()
    return out


def loss_and_gradient(name, y_true, y_pred, patch_size=None):
    loss = get_loss(name, patch_size=patch_size or y_true.shape[1])
    pred = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = loss(tf.constant(y_true), pred)
    return float(value), tape.gradient(value, pred).numpy()


@pytest.fixture(autouse=True)
def _quiet_filter_size_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


@pytest.mark.parametrize("name", LOSSES)
def test_loss_is_zero_for_identical_images(name):
    x = fibres()
    assert abs(float(get_loss(name, 64)(x, x))) < 1e-5


@pytest.mark.parametrize("name", LOSSES)
def test_loss_is_positive_for_different_images(name):
    x = fibres()
    noisy = x + 0.2 * np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    assert float(get_loss(name, 64)(x, noisy)) > 0.01


@pytest.mark.parametrize("name", ("ms3", "ms5"))
def test_ms_loss_decreases_as_a_noisy_prediction_approaches_the_target(name):
    x = fibres(size=128)
    noise = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    loss = get_loss(name, 128)
    values = [float(loss(x, x + s * noise)) for s in (0.5, 0.2, 0.05)]
    assert values[0] > values[1] > values[2] > 0


@pytest.mark.parametrize("weights,filter_size", [(MS_WEIGHTS["ms5"], 7), (MS_WEIGHTS["ms3"], 11)])
def test_ms_ssim_value_equals_tensorflow_ssim_multiscale(weights, filter_size):
    x = fibres(size=128, batch=2)
    y = x + 0.1 * np.random.default_rng(3).standard_normal(x.shape).astype(np.float32)
    ours = ms_ssim(x, y, weights=weights, filter_size=filter_size).numpy()
    ref = tf.image.ssim_multiscale(x, y, 1.0, power_factors=weights, filter_size=filter_size).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_ms_ssim_equals_tensorflow_on_odd_non_square_images():
    x = fibres(size=128)[:, :101, :77]
    y = x[:, ::-1].copy()
    ours = ms_ssim(x, y, weights=MS_WEIGHTS["ms3"], filter_size=7).numpy()
    ref = tf.image.ssim_multiscale(x, y, 1.0, power_factors=MS_WEIGHTS["ms3"], filter_size=7).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_tensorflow_ssim_multiscale_itself_gives_nan_gradients_on_anticorrelated_images():
    # The reason ms_ssim exists: if this ever passes finite, the workaround may be dropped.
    x = fibres(size=128)
    pred = tf.Variable(1.0 - x)
    with tf.GradientTape() as tape:
        value = 1.0 - tf.reduce_mean(tf.image.ssim_multiscale(x, pred, 1.0, filter_size=7))
    assert not np.isfinite(tape.gradient(value, pred).numpy()).all()


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_is_finite_for_anticorrelated_images(name):
    x = fibres()
    value, grad = loss_and_gradient(name, x, 1.0 - x)
    assert np.isfinite(value) and np.isfinite(grad).all()


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_is_finite_for_flat_images(name):
    flat = np.full((1, 64, 64, 1), 0.3, np.float32)
    for y_true, y_pred in [(flat, flat), (flat, fibres()), (fibres(), flat)]:
        value, grad = loss_and_gradient(name, y_true, y_pred)
        assert np.isfinite(value) and np.isfinite(grad).all()


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_is_finite_for_negative_valued_images(name):
    x = fibres() - 1.5
    noisy = x + 0.3 * np.random.default_rng(4).standard_normal(x.shape).astype(np.float32)
    value, grad = loss_and_gradient(name, x, noisy)
    assert np.isfinite(value) and np.isfinite(grad).all()


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_is_finite_and_nonzero_for_batch_of_one_noisy_image(name):
    x = fibres(batch=1)
    noisy = x + 0.2 * np.random.default_rng(5).standard_normal(x.shape).astype(np.float32)
    value, grad = loss_and_gradient(name, x, noisy)
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0


@pytest.mark.parametrize("name", LOSSES)
def test_multichannel_loss_is_mean_of_per_channel_losses(name):
    x = fibres(batch=2, channels=2)
    y = x + 0.2 * np.random.default_rng(6).standard_normal(x.shape).astype(np.float32)
    loss = get_loss(name, 64)
    per_channel = [float(loss(x[..., c : c + 1], y[..., c : c + 1])) for c in range(2)]
    assert float(loss(x, y)) == pytest.approx(np.mean(per_channel), rel=1e-4)


def test_ms5_filter_size_is_the_papers_7_for_128px_patches():
    s = loss_settings("ms5", 128)
    assert (s["filter_size"], s["scales"], s["adapted"]) == (7, 5, False)


def test_ms5_filter_size_shrinks_to_fit_64px_patches():
    s = loss_settings("ms5", 64)
    assert s["filter_size"] == 3 and s["adapted"] and s["weights"] == list(MS_WEIGHTS["ms5"])


def test_ms3_and_ssim_keep_filter_size_11_for_64px_patches():
    assert loss_settings("ms3", 64)["filter_size"] == 11
    assert loss_settings("ssim", 64)["filter_size"] == 11


def test_reduced_filter_size_warns_and_names_the_new_size(monkeypatch):
    import l2l_helpers.training.losses as losses

    monkeypatch.setattr(losses, "_NOTED", set())  # not yet noted in this process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = get_loss("ms5", patch_size=64)
    assert any("filter size 3" in str(w.message) for w in caught)
    assert loss.settings["filter_size"] == 3


def test_reduced_filter_size_loss_runs_on_64px_patches():
    x = fibres(size=64)
    assert np.isfinite(float(get_loss("ms5", 64)(x, 1.0 - x)))


def test_too_small_patch_raises_naming_minimum_patch_size():
    with pytest.raises(ValueError, match=f"at least {min_patch_size('ms5')} px"):
        loss_settings("ms5", 32)


def test_minimum_patch_size_is_accepted():
    assert loss_settings("ms5", min_patch_size("ms5"))["filter_size"] == 3


def test_loss_settings_are_json_serialisable():
    import json

    for name in LOSSES:
        json.dumps(loss_settings(name, (64, 48)))


def test_unknown_loss_name_raises():
    with pytest.raises(ValueError, match="unknown loss 'huber'"):
        get_loss("huber")


def test_default_filter_on_too_small_images_raises_clearly():
    x = fibres(size=64)
    with pytest.raises(ValueError, match="too small"):
        get_loss("ms5")(x, x)


@pytest.mark.parametrize("name", LOSSES)
def test_tiny_keras_model_takes_a_training_step_without_nan(name):
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((64, 64, 1))
    outputs = keras.layers.Conv2D(1, 3, padding="same")(
        keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    )
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=get_loss(name, 64))
    x = fibres(size=64, batch=2)
    y = 1.0 - x  # anti-correlated start: the worst case for the MS-SSIM gradient
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=2, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("name", ("ms3", "ms5"))
def test_ms_gradient_still_points_somewhere_when_ms_ssim_is_clipped_to_zero(name):
    x = fibres()
    pred = 1.0 - x
    assert float(ms_ssim(x, pred, weights=MS_WEIGHTS[name], filter_size=3)[0]) == 0.0
    _, grad = loss_and_gradient(name, x, pred)
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0


def test_reduced_filter_size_is_noted_once_per_process(monkeypatch):
    import l2l_helpers.training.losses as losses

    monkeypatch.setattr(losses, "_NOTED", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        get_loss("ms5", 64)
        get_loss("ms5", 64)
    notes = [w for w in caught if issubclass(w.category, UserWarning) and "filter" in str(w.message)]
    assert len(notes) == 1
