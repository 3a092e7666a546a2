"""One experiment, described as plain data and run by one pure function.

An :class:`Experiment` says *what* to train and score: the data (simulated
cells or folders of image pairs), the method (``"l2l"``: input label ->
target label; ``"n2n"``: input -> a second noise realisation of the same
label), the loss, the profile and its overrides, the seed, and which images
train and which are held out for testing. It is frozen and
JSON-serialisable, so the same experiment runs in a notebook cell, from the
command line, or as a task on another process or machine (lesson 07 sends
them to Dask workers).

:func:`run_experiment` runs it and returns plain data (scores, file paths,
seconds; no live Keras objects), so results can be written to CSV or JSON
and sent between processes.

Examples
--------
>>> exp = Experiment(data={"simulate": {"structure": "actin", "n": 6, "size": 128}},
...                  test_images=(4, 5), profile="quick", overrides={"epochs": 2})
>>> Experiment.from_json(exp.to_json()) == exp
True
>>> result = run_experiment(exp)  # doctest: +SKIP
>>> result["scores"]["restored"]["psnr"] > result["scores"]["input"]["psnr"]  # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

__all__ = ["METHODS", "Experiment", "load_experiment_data", "run_experiment"]

#: Training methods: label2label (input label -> target label) and
#: noise2noise (input -> a second, registered image of the same label).
METHODS = ("l2l", "n2n")

_SIM_KEYS = {"structure", "n", "size", "seed"}
_DIR_KEYS = {"input_dir", "target_dir", "ground_truth_dir", "cell_mask_dir"}


def _frozen(value, name):
    """Check that a value is JSON data; return it with lists as tuples."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Experiment.{name} must be JSON data (numbers, strings, lists, dicts): {exc}") from exc
    if isinstance(value, list):
        return tuple(_frozen(v, name) for v in value)
    return value


def _plain(value):
    """Tuples back to lists, for JSON."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Experiment:
    """A frozen, JSON-serialisable description of one training and its test.

    Parameters
    ----------
    data : dict
        Either ``{"simulate": {"structure": ..., "n": ..., "size": 256,
        "seed": 0}}`` (cells from :func:`l2l_helpers.data.simulate.simulate_dataset`;
        the ground truth and cell masks come with them), or folders of
        paired TIFFs ``{"input_dir": ..., "target_dir": ...}``, optionally
        with ``"ground_truth_dir"`` (and ``"cell_mask_dir"``) for scores
        against a ground truth. For ``method="n2n"`` on folders,
        ``target_dir`` holds the second noise realisation of the input label.
    method : {"l2l", "n2n"}
        What the network learns to map (see :data:`METHODS`).
    loss : str
        A loss of :data:`l2l_helpers.training.losses.LOSSES`.
    profile : str
        A profile of :data:`l2l_helpers.training.profiles.PROFILES`.
    overrides : dict
        Settings of the profile to replace (e.g. ``{"epochs": 2}``): changes
        of :class:`~l2l_helpers.training.profiles.CARESettings`, checked as
        :func:`l2l_helpers.training.profiles.care_settings` checks them (an
        unknown setting or a value that does not fit is refused, the setting
        and what it allows named); :attr:`settings` are the result.
    seed : int
        Seed of patches, weights and batch order.
    train_images : sequence of int, optional
        Indices of the images to train on (validation images are taken
        from these, by image). Default: every image not in ``test_images``.
    test_images : sequence of int
        Indices of the held-out images that are restored and scored.
    model_dir : str, optional
        Where the network is saved (replaced if it holds an earlier run of
        an experiment). Default: a temporary folder, deleted after scoring.

    Raises
    ------
    ValueError
        Unknown method, loss, profile or setting; data that are neither a
        simulation nor folders; overlapping or empty image sets; values that
        are not JSON data.

    Examples
    --------
    >>> exp = Experiment(data={"simulate": {"structure": "tubulin", "n": 4}}, test_images=[3])
    >>> exp.test_images, exp.method
    ((3,), 'l2l')
    >>> Experiment(data={"simulate": {"structure": "actin", "n": 4}}, test_images=[3], profile="quick",
    ...            overrides={"epochs": 2}).settings.epochs
    2
    >>> Experiment(data={"simulate": {"structure": "actin", "n": 4}}, test_images=[3], overrides={"epochs": 2.5})
    Traceback (most recent call last):
    ...
    l2l_helpers.settings.SettingsError: epochs must be a whole number, got 2.5
    """

    data: dict
    method: str = "l2l"
    loss: str = "l1"
    profile: str = "workshop"
    overrides: dict = field(default_factory=dict)
    seed: int = 0
    train_images: tuple | None = None
    test_images: tuple = ()
    model_dir: str | None = None

    def __post_init__(self):
        from l2l_helpers.training.losses import LOSSES
        from l2l_helpers.training.profiles import PROFILES, care_settings

        for f in fields(self):
            object.__setattr__(self, f.name, _frozen(getattr(self, f.name), f.name))
        if not isinstance(self.data, dict) or not self.data:
            raise ValueError(
                "Experiment.data must be a dict: {'simulate': {...}} or {'input_dir': ..., 'target_dir': ...}"
            )
        if "simulate" in self.data:
            sim = self.data["simulate"]
            if set(self.data) != {"simulate"} or not isinstance(sim, dict) or not {"structure", "n"} <= set(sim):
                raise ValueError(
                    "Experiment.data['simulate'] needs 'structure' and 'n' (and optionally 'size', 'seed')"
                )
            unknown = set(sim) - _SIM_KEYS
            if unknown:
                raise ValueError(f"unknown simulation settings {sorted(unknown)}; known: {sorted(_SIM_KEYS)}")
        else:
            if not {"input_dir", "target_dir"} <= set(self.data):
                raise ValueError("Experiment.data needs 'simulate' or both 'input_dir' and 'target_dir'")
            unknown = set(self.data) - _DIR_KEYS
            if unknown:
                raise ValueError(f"unknown data keys {sorted(unknown)}; known: {sorted(_DIR_KEYS)}")
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose one of {', '.join(PROFILES)}")
        if not isinstance(self.overrides, dict):
            raise ValueError("Experiment.overrides must be a dict of profile settings")
        care_settings(self.profile, **self.overrides)  # unknown settings, values that do not fit: refused by name
        if int(self.seed) != self.seed:
            raise ValueError(f"seed must be a whole number, got {self.seed!r}")
        test = tuple(self.test_images)
        if not test:
            raise ValueError("Experiment.test_images is empty: hold out at least one image to score")
        train = None if self.train_images is None else tuple(self.train_images)
        for name, ids in (("test_images", test), ("train_images", train or ())):
            if any(not isinstance(i, int) or isinstance(i, bool) or i < 0 for i in ids):
                raise ValueError(f"Experiment.{name} must be image indices (whole numbers >= 0), got {ids}")
            if len(set(ids)) != len(ids):
                raise ValueError(f"Experiment.{name} lists an image twice: {ids}")
        if train is not None and set(train) & set(test):
            raise ValueError(f"images {sorted(set(train) & set(test))} are in both train_images and test_images")
        object.__setattr__(self, "test_images", test)
        object.__setattr__(self, "train_images", train)

    def __hash__(self):
        return hash(self.to_json())

    @property
    def settings(self):
        """The CARE settings the experiment trains with: its profile's, with :attr:`overrides` replaced.

        Returns
        -------
        l2l_helpers.training.profiles.CARESettings

        Examples
        --------
        >>> exp = Experiment(data={"simulate": {"structure": "actin", "n": 3}}, test_images=(2,), profile="quick")
        >>> exp.settings.patch_size, exp.settings.replace(patch_size=64).patch_size
        (48, 64)
        """
        from l2l_helpers.training.profiles import care_settings

        return care_settings(self.profile, **self.overrides)

    def to_dict(self):
        """The experiment as plain JSON data (lists, dicts, numbers, strings).

        Returns
        -------
        dict

        Examples
        --------
        >>> Experiment(data={"simulate": {"structure": "pxn", "n": 3}}, test_images=(2,)).to_dict()["test_images"]
        [2]
        """
        return _plain(asdict(self))

    def to_json(self):
        """The experiment as a JSON string (keys sorted).

        Examples
        --------
        >>> '"method": "n2n"' in Experiment(data={"simulate": {"structure": "actin", "n": 3}},
        ...                                 method="n2n", test_images=(2,)).to_json()
        True
        """
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data):
        """Build an experiment from :meth:`to_dict`'s output.

        Raises
        ------
        ValueError
            Unknown keys, or anything :class:`Experiment` refuses.

        Examples
        --------
        >>> d = {"data": {"simulate": {"structure": "actin", "n": 3}}, "test_images": [2]}
        >>> Experiment.from_dict(d).profile
        'workshop'
        """
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown experiment keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text):
        """Build an experiment from :meth:`to_json`'s output.

        Examples
        --------
        >>> exp = Experiment(data={"simulate": {"structure": "actin", "n": 3}}, test_images=(2,))
        >>> Experiment.from_json(exp.to_json()) == exp
        True
        """
        return cls.from_dict(json.loads(text))


def load_experiment_data(experiment):
    """Load (or simulate) the images an experiment uses.

    Parameters
    ----------
    experiment : Experiment

    Returns
    -------
    dict
        ``names`` (one per image), ``input``, ``target`` (the image the
        network learns to produce: the target label for L2L, the registered
        second realisation for N2N, cropped with its input to their common
        area), ``reference`` (the target label, uncropped, for scores),
        and where known ``ground_truth`` and ``cell_mask``: each a list with
        one array per image.

    Raises
    ------
    ImageError
        Unreadable, unpaired or bad images (named in the message).
    ValueError
        Image indices beyond the number of images.

    Examples
    --------
    >>> exp = Experiment(data={"simulate": {"structure": "actin", "n": 2, "size": 64}}, test_images=(1,))
    >>> d = load_experiment_data(exp)
    >>> d["names"], d["input"][0].shape, "ground_truth" in d
    (['cell_000.tif', 'cell_001.tif'], (64, 64), True)
    """
    from l2l_helpers.data.io import load_pairs

    data = experiment.data
    if "simulate" in data:
        from l2l_helpers.data.simulate import simulate_dataset

        sim = dict(data["simulate"])
        cells = simulate_dataset(sim["structure"], n=sim["n"], size=sim.get("size", 256), seed=sim.get("seed", 0))
        if "input_repeat" not in cells:
            raise ValueError(
                f"structure {sim['structure']!r} has no input/target label pair; choose one of the paired structures"
            )
        out = {
            "names": cells["names"],
            "input": cells["input"],
            "reference": cells["benchmark"],
            "ground_truth": cells["ground_truth"],
            "cell_mask": cells["cell_mask"],
        }
        second = cells["input_repeat"]
    else:
        folders = [data["input_dir"], data["target_dir"]]
        extra = [k for k in ("ground_truth_dir", "cell_mask_dir") if data.get(k)]
        names, stacks = load_pairs(*folders, *[data[k] for k in extra])
        out = {"names": names, "input": stacks[0], "reference": stacks[1]}
        for k, stack in zip(extra, stacks[2:]):
            out[k[:-4]] = stack if k != "cell_mask_dir" else [s > 0 for s in stack]
        second = stacks[1]
    n = len(out["names"])
    ids = list(experiment.test_images) + list(experiment.train_images or ())
    if max(ids) >= n:
        raise ValueError(f"image index {max(ids)} given, but the data have only {n} images (0 to {n - 1})")
    if experiment.method == "n2n":
        from l2l_helpers.pairs.drift import register_pair

        pairs = [register_pair(x, y)[:2] for x, y in zip(out["input"], second)]
        out["train_input"] = [p[0] for p in pairs]
        out["target"] = [p[1] for p in pairs]
    else:
        out["train_input"] = out["input"]
        out["target"] = out["reference"]
    return out


def _mean_scores(scores):
    return {name: dict(entry["mean"]) for name, entry in scores.items()}


def run_experiment(experiment, progress=False):
    """Train the experiment's network, restore the test images, score them.

    A pure function of the experiment: same experiment, same numbers (on
    the CPU); it returns plain data and leaves no global state behind
    (training runs in :func:`l2l_helpers.training.seeding.seeded` and clears Keras'
    session first).

    Parameters
    ----------
    experiment : Experiment or dict or str
        The experiment, or its :meth:`~Experiment.to_dict` /
        :meth:`~Experiment.to_json` form.
    progress : bool
        Print one line per epoch.

    Returns
    -------
    dict
        ``experiment`` (as a dict), ``train_images``,
        ``validation_images``, ``test_images`` (image names),
        ``scores``: ``{"input": {...}, "restored": {...}}`` mean metrics
        over the test images against the reference label (``psnr``,
        ``nrmse``, ``ssim``, ``ms3``, ``ms5``); ``scores_ground_truth``:
        the same against the ground truth where there is one, with
        ``background`` and ``hallucination`` where cell masks are known;
        ``model_dir`` (None when the model was temporary); ``seconds``:
        ``prepare``, ``train``, ``restore``, ``score``, ``total``.

    Examples
    --------
    >>> exp = Experiment(data={"simulate": {"structure": "actin", "n": 4, "size": 128}}, test_images=(3,),
    ...                  profile="quick", overrides={"epochs": 1, "steps_per_epoch": 2})
    >>> r = run_experiment(exp)  # doctest: +SKIP
    >>> sorted(r["seconds"])  # doctest: +SKIP
    ['prepare', 'restore', 'score', 'total', 'train']
    """
    if isinstance(experiment, str):
        experiment = Experiment.from_json(experiment)
    elif isinstance(experiment, dict):
        experiment = Experiment.from_dict(experiment)
    t0 = time.perf_counter()
    seconds = {}
    d = load_experiment_data(experiment)
    names = d["names"]
    test = list(experiment.test_images)
    train = _training_images(experiment, len(names))
    data = _patches(experiment, d, train)
    seconds["prepare"] = time.perf_counter() - t0
    inputs = [d["input"][i] for i in test]
    restored, model_dir = _train_and_restore(experiment, data, inputs, progress, seconds)
    t = time.perf_counter()
    scores, scores_gt = _scores(d, test, inputs, restored)
    seconds["score"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    return {
        "experiment": experiment.to_dict(),
        "train_images": [names[i] for i in train],
        "validation_images": list(data.split["validation_images"]),
        "test_images": [names[i] for i in test],
        "scores": scores,
        "scores_ground_truth": scores_gt,
        "model_dir": model_dir,
        "seconds": {k: round(float(v), 3) for k, v in seconds.items()},
    }


def _training_images(experiment, n_images):
    """Indices of the training images: the experiment's, or every image not tested."""
    test = list(experiment.test_images)
    train = (
        list(experiment.train_images)
        if experiment.train_images is not None
        else [i for i in range(n_images) if i not in set(test)]
    )
    if not train:
        raise ValueError("no images left for training")
    return train


def _patches(experiment, d, train):
    """Training patches of the training images, with the profile's patch settings."""
    from l2l_helpers.training.prepare import make_training_data
    from l2l_helpers.training.profiles import PATCH_SETTINGS

    settings = experiment.settings
    return make_training_data(
        [d["train_input"][i] for i in train],
        [d["target"][i] for i in train],
        **{key: getattr(settings, key) for key in PATCH_SETTINGS},
        names=[d["names"][i] for i in train],
        seed=experiment.seed,
    )


def _train_and_restore(experiment, data, inputs, progress, seconds):
    """Train the network (in a temporary folder without ``model_dir``), restore the test inputs.

    Returns the restorations and the model folder (None when temporary); ``seconds`` gets ``train``, ``restore``.
    """
    from l2l_helpers.restoring.restorers import CARERestorer
    from l2l_helpers.training.profiles import PATCH_SETTINGS
    from l2l_helpers.training.train import train_model

    train_overrides = {k: v for k, v in experiment.overrides.items() if k not in PATCH_SETTINGS}
    with contextlib.ExitStack() as stack:
        if experiment.model_dir is None:
            model_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="l2l-experiment-"))) / "model"
        else:
            model_dir = Path(experiment.model_dir)
        t = time.perf_counter()
        result = train_model(
            *data,
            model_dir,
            loss=experiment.loss,
            profile=experiment.profile,
            seed=experiment.seed,
            overwrite=True,
            split=data,
            verbose=2 if progress else 0,
            metadata={"experiment": experiment.to_dict()},
            **train_overrides,
        )
        seconds["train"] = time.perf_counter() - t
        t = time.perf_counter()
        restored = CARERestorer(result.model).restore_many(inputs, progress=False)
        seconds["restore"] = time.perf_counter() - t
    return restored, None if experiment.model_dir is None else str(model_dir)


def _scores(d, test, inputs, restored):
    """Mean scores of the input and the restoration against the reference and, where known, the ground truth."""
    from l2l_helpers.scoring.metrics import score_restorations

    methods = {"input": inputs, "restored": restored}
    scores = _mean_scores(score_restorations(methods, [d["reference"][i] for i in test]))
    if "ground_truth" not in d:
        return scores, None
    kwargs = {}
    if "cell_mask" in d:
        kwargs = {"cell_masks": [d["cell_mask"][i] for i in test], "inputs": inputs}
    return scores, _mean_scores(score_restorations(methods, [d["ground_truth"][i] for i in test], **kwargs))
