"""Specification of l2l_helpers.training.prepare (training patches; no TensorFlow)."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from l2l_helpers.data.io import ImageError
from l2l_helpers.training.prepare import (
    INPUT_NORMALIZATIONS,
    ZOOM_FACTORS,
    TrainingData,
    add_poisson_noise,
    augment_pair,
    make_training_data,
    normalize,
    normalize_input,
    standardize,
)


def _images(n=3, size=96, seed=0):
    rng = np.random.default_rng(seed)
    return [gaussian_filter(rng.random((size, size)), 1.0).astype(np.float32) for _ in range(n)]


def test_prepare_does_not_import_tensorflow():
    code = (
        "import sys, numpy as np; from l2l_helpers.training.prepare import make_training_data; "
        "make_training_data([np.random.rand(64, 64)] * 2, [np.random.rand(64, 64)] * 2, patch_size=32, "
        "n_patches_per_image=4); print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_normalize_maps_the_percentiles_to_zero_and_one():
    img = np.linspace(0, 10, 1001, dtype=np.float32)
    out = normalize(img, 2, 99.8)
    assert np.isclose(np.percentile(out, 2), 0, atol=1e-5)
    assert np.isclose(np.percentile(out, 99.8), 1, atol=1e-5)


def test_normalize_rejects_inverted_percentiles():
    with pytest.raises(ValueError, match="pmin"):
        normalize(np.arange(10.0), 99, 1)


def test_rotation_turns_input_and_target_together():
    x = np.random.default_rng(0).random((8, 8))
    xa, ya = augment_pair(x, x + 1, zoom=1.0, rotation=1)
    assert np.array_equal(xa, np.rot90(x).astype(np.float32))
    assert np.allclose(ya, xa + 1)


def test_zoom_changes_the_size_of_input_and_target_alike():
    x = np.random.default_rng(0).random((40, 40))
    xa, ya = augment_pair(x, 3 * x, zoom=1.5, rotation=3)
    assert xa.shape == ya.shape == (60, 60)
    assert np.allclose(ya, 3 * xa, atol=1e-5)


def test_augment_pair_rejects_pairs_of_different_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        augment_pair(np.zeros((8, 8)), np.zeros((8, 9)))


def test_augmented_patches_keep_input_and_target_aligned():
    # targets are an affine function of the inputs: after normalisation every
    # patch pair (raw, zoomed, rotated) must be identical if they stay aligned
    inputs = _images(3)
    targets = [5 * x + 2 for x in inputs]
    X, Y, Xv, Yv = make_training_data(inputs, targets, patch_size=32, n_patches_per_image=16, seed=3)
    assert np.allclose(X, Y, atol=1e-4)
    assert np.allclose(Xv, Yv, atol=1e-4)


def test_same_seed_gives_the_same_patches():
    a = make_training_data(_images(), _images(seed=1), patch_size=32, n_patches_per_image=8, seed=7)
    b = make_training_data(_images(), _images(seed=1), patch_size=32, n_patches_per_image=8, seed=7)
    for u, v in zip(a, b):
        assert np.array_equal(u, v)


def test_different_seeds_give_different_patches():
    a = make_training_data(_images(), _images(seed=1), patch_size=32, n_patches_per_image=8, seed=1)
    b = make_training_data(_images(), _images(seed=1), patch_size=32, n_patches_per_image=8, seed=2)
    assert not np.array_equal(a[0], b[0])


def test_patch_sampling_leaves_the_global_numpy_generator_alone():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    make_training_data(_images(), _images(seed=1), patch_size=32, n_patches_per_image=8)
    assert np.random.random() == expected


def test_validation_split_is_a_fraction_of_the_images():
    X, Y, Xv, Yv = make_training_data(
        _images(10), _images(10, seed=1), patch_size=32, n_patches_per_image=4, validation_split=0.2
    )
    assert len(X) == 32 and len(Xv) == 8
    assert X.shape[1:] == (32, 32, 1) and Y.shape == X.shape and Yv.shape == Xv.shape


def test_at_least_one_image_is_held_out_for_validation():
    data = make_training_data(_images(3), _images(3, seed=1), patch_size=32, n_patches_per_image=4)
    assert len(data.validation_images) == 1 and len(data.train_images) == 2


def test_no_image_has_patches_on_both_sides():
    data = make_training_data(
        _images(4), _images(4, seed=1), patch_size=32, n_patches_per_image=8, validation_split=0.5
    )
    assert set(data.image_index.tolist()).isdisjoint(data.val_image_index.tolist())
    assert sorted(set(data.val_image_index.tolist())) == data.validation_images


def test_too_few_images_to_hold_one_out_is_a_clear_error():
    with pytest.raises(ValueError, match="1 image.*too few.*validation"):
        make_training_data(_images(1), _images(1), patch_size=32, n_patches_per_image=4)


def test_training_data_unpacks_as_four_arrays():
    data = make_training_data(_images(2), _images(2, seed=1), patch_size=32, n_patches_per_image=4)
    X, Y, Xv, Yv = data
    assert isinstance(data, tuple) and X is data[0] and Yv is data[3]


def test_images_are_named_by_their_names_when_given():
    data = make_training_data(
        _images(3), _images(3, seed=1), patch_size=32, n_patches_per_image=4, names=["a.tif", "b.tif", "c.tif"]
    )
    assert sorted(data.train_images + data.validation_images) == ["a.tif", "b.tif", "c.tif"]
    assert data.split == {"train_images": data.train_images, "validation_images": data.validation_images}


def test_validation_images_can_be_chosen_by_name_or_index():
    kw = dict(patch_size=32, n_patches_per_image=4, names=["a", "b", "c"])
    by_name = make_training_data(_images(3), _images(3, seed=1), validation_images=["b"], **kw)
    by_index = make_training_data(_images(3), _images(3, seed=1), validation_images=[1], **kw)
    assert by_name.validation_images == by_index.validation_images == ["b"]
    assert by_name.train_images == ["a", "c"]


def test_unknown_validation_image_is_named_in_the_error():
    with pytest.raises(ValueError, match="'d'"):
        make_training_data(
            _images(3),
            _images(3, seed=1),
            patch_size=32,
            n_patches_per_image=4,
            names=["a", "b", "c"],
            validation_images=["d"],
        )


def test_a_recorded_split_reproduces_the_same_patches():
    kw = dict(patch_size=32, n_patches_per_image=4, names=["a", "b", "c", "d"], seed=5)
    first = make_training_data(_images(4), _images(4, seed=1), **kw)
    again = make_training_data(_images(4), _images(4, seed=1), validation_images=first.validation_images, **kw)
    for u, v in zip(first, again):
        assert np.array_equal(u, v)


def test_each_patch_knows_its_image_and_augmented_copy():
    inputs = _images(2)
    data = make_training_data(
        inputs, inputs, patch_size=32, n_patches_per_image=8, validation_split=0, augment=True, seed=0
    )
    raw = [normalize(x) for x in inputs]

    def is_crop(img, p):
        return any(np.array_equal(img[r : r + 32, c : c + 32], p) for r in range(65) for c in range(65))

    assert len(data.copy_index) == len(data[0]) == 16
    for p, i, j in zip(data[0][..., 0], data.image_index, data.copy_index):
        assert is_crop(raw[i], p) == (j == 0)


def test_half_of_the_patches_come_from_augmented_images():
    # a patch from the raw pair is an exact crop of the normalised image; a
    # patch from a zoomed (interpolated) copy is not
    inputs = _images(1)
    X_aug, *_ = make_training_data(
        inputs, inputs, patch_size=32, n_patches_per_image=8, validation_split=0, augment=True, seed=0
    )
    X_raw, *_ = make_training_data(
        inputs, inputs, patch_size=32, n_patches_per_image=8, validation_split=0, augment=False, seed=0
    )
    assert len(X_aug) == len(X_raw) == 8
    raw_norm = normalize(inputs[0])

    def from_raw(p):  # is this patch a crop of the raw normalised image?
        for r in range(96 - 32 + 1):
            for c in range(96 - 32 + 1):
                if np.array_equal(raw_norm[r : r + 32, c : c + 32], p):
                    return True
        return False

    assert sum(from_raw(p[..., 0]) for p in X_aug) == 4
    assert all(from_raw(p[..., 0]) for p in X_raw)


def test_several_targets_give_one_channel_each_and_a_repeated_input():
    inputs = _images(2)
    t1, t2 = _images(2, seed=1), _images(2, seed=2)
    X, Y, Xv, Yv = make_training_data(inputs, [t1, t2], patch_size=32, n_patches_per_image=10)
    assert X.shape == Y.shape == (10, 32, 32, 2)
    assert np.array_equal(X[..., 0], X[..., 1])
    assert not np.allclose(Y[..., 0], Y[..., 1])


def test_target_without_foreground_warns_with_its_name_and_does_not_crash():
    inputs = _images(2)
    empty = np.zeros((96, 96), np.float32)
    empty[0, 0] = 1.0  # a single corner pixel: nothing for the patch filter
    with pytest.warns(UserWarning, match="cell_empty.tif"):
        X, Y, Xv, Yv = make_training_data(
            inputs,
            [_images(1)[0], empty],
            patch_size=32,
            n_patches_per_image=8,
            names=["cell_ok.tif", "cell_empty.tif"],
        )
    assert len(X) + len(Xv) == 16


def test_images_without_foreground_are_named_in_one_warning_per_call():
    import warnings

    empty = np.zeros((96, 96), np.float32)
    empty[0, 0] = 1.0  # a single corner pixel: nothing for the patch filter
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_training_data(_images(2), [empty, empty], patch_size=32, n_patches_per_image=8, names=["a.tif", "b.tif"])
    messages = [str(w.message) for w in caught if "foreground" in str(w.message)]
    assert len(messages) == 1 and "2 of 2 images" in messages[0] and "a.tif, b.tif" in messages[0]


def test_image_smaller_than_a_patch_is_named_in_the_error():
    with pytest.raises(ImageError, match="tiny.tif.*smaller than a patch"):
        make_training_data([np.random.rand(20, 20)], [np.random.rand(20, 20)], patch_size=32, names=["tiny.tif"])


def test_input_and_target_of_different_shapes_are_named_in_the_error():
    with pytest.raises(ImageError, match="odd.tif"):
        make_training_data([np.random.rand(64, 64)], [np.random.rand(64, 60)], patch_size=32, names=["odd.tif"])


def test_three_dimensional_image_is_refused():
    with pytest.raises(ImageError, match="stack.tif.*2-D"):
        make_training_data([np.random.rand(4, 64, 64)], [np.random.rand(4, 64, 64)], patch_size=32, names=["stack.tif"])


def test_zoom_factors_too_small_for_a_patch_are_skipped():
    inputs = _images(1, size=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, Y, Xv, Yv = make_training_data(
            inputs, inputs, patch_size=32, n_patches_per_image=8, zoom_factors=ZOOM_FACTORS, validation_split=0
        )  # 0.5, 0.75: < 32 px
    assert len(X) == 8


def test_poisson_noise_is_added_to_the_targets_only():
    inputs = _images(2)
    X0, Y0, _, _ = make_training_data(inputs, inputs, patch_size=32, n_patches_per_image=8, seed=0)
    X1, Y1, _, _ = make_training_data(inputs, inputs, patch_size=32, n_patches_per_image=8, seed=0, poisson=20)
    assert np.allclose(X0, Y0, atol=1e-5)
    assert not np.allclose(X1, Y1, atol=1e-2)


def test_poisson_noise_keeps_the_mean():
    noisy = add_poisson_noise(np.full((128, 128), 0.5), peak=50, rng=1)
    assert abs(float(noisy.mean()) - 0.5) < 0.01
    assert noisy.std() > 0.05


# --- input normalisation -------------------------------------------------------------------------


def test_standardize_gives_zero_mean_and_unit_variance():
    img = 3.0 + 5.0 * np.random.default_rng(0).random((50, 60))
    out = standardize(img)
    assert out.dtype == np.float32
    assert abs(float(out.mean())) < 1e-5 and abs(float(out.std()) - 1.0) < 1e-5


def test_percentile_is_the_default_input_normalization_and_matches_normalize():
    img = _images(1)[0]
    assert INPUT_NORMALIZATIONS[0] == "percentile"
    np.testing.assert_array_equal(normalize_input(img), normalize(img))


def test_an_unknown_input_normalization_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="percentile, mean_std"):
        normalize_input(_images(1)[0], "zscore")
    with pytest.raises(ValueError, match="input_normalization"):
        make_training_data(_images(2), _images(2), patch_size=32, n_patches_per_image=4, input_normalization="minmax")


def test_mean_std_standardises_the_inputs_and_leaves_the_targets_and_patch_positions_alone():
    imgs, targets = _images(3, seed=1), _images(3, seed=2)
    kwargs = dict(patch_size=32, n_patches_per_image=6, augment=False, seed=0)
    pct = make_training_data(imgs, targets, **kwargs)
    std = make_training_data(imgs, targets, input_normalization="mean_std", **kwargs)
    assert (pct.input_normalization, std.input_normalization) == ("percentile", "mean_std")
    np.testing.assert_array_equal(std[1], pct[1])  # targets: percentile-normalised either way
    np.testing.assert_array_equal(std.image_index, pct.image_index)
    for i, img in enumerate(imgs):
        # per source image the standardised patches are the percentile patches scaled and shifted
        lo, hi = np.percentile(img, [2.0, 99.8])
        mean, sd = float(np.mean(img)), float(np.std(img))
        sel = std.image_index == i
        expected = ((pct[0][sel] * (hi - lo) + lo) - mean) / (sd + 1e-6)
        np.testing.assert_allclose(std[0][sel], expected, atol=1e-4)


def test_training_data_keeps_its_input_normalization_when_pickled():
    import pickle

    data = make_training_data(
        _images(2), _images(2), patch_size=32, n_patches_per_image=4, input_normalization="mean_std"
    )
    again = pickle.loads(pickle.dumps(data))
    assert isinstance(again, TrainingData) and again.input_normalization == "mean_std"


def test_training_data_says_how_many_patches_each_image_gave_also_when_pickled():
    import pickle

    data = make_training_data(_images(3), _images(3), patch_size=32, n_patches_per_image=6)
    again = pickle.loads(pickle.dumps(data))
    assert data.n_patches_per_image == again.n_patches_per_image == 6
    assert len(data[0]) + len(data[2]) == 3 * 6
