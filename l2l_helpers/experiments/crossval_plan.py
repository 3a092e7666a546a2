"""Planning a cross-validation sweep: the folds of every (N, repetition) and one JSON experiment per fold.

Part of :mod:`l2l_helpers.experiments.crossval` (which re-exports every public name here). No Dask or
TensorFlow.

Examples
--------
>>> plan = plan_crossval(n_images=16, n_pairs=(4, 8), folds=4, repeats=1, repeats_small=2)
>>> len(plan), plan[0]["n_pairs"], len(plan[0]["train"]), len(plan[0]["test"])
(12, 4, 3, 1)
"""

from __future__ import annotations

import math

import numpy as np

from l2l_helpers.training.profiles import DEFAULT_PROFILE

__all__ = ["crossval_tasks", "plan_crossval", "repeats_per_n", "scaled_epochs"]


def repeats_per_n(n_pairs, repeats, repeats_small=None):
    """Number of repetitions for each N: ``repeats_small`` for the smaller half of the N values.

    Small training sets vary most from draw to draw, so the paper repeated
    them more often. The "smaller half" is the ``len(n_pairs) // 2`` smallest
    values (8 and 16 of 8, 16, 32, 64; 10 of 10, 30, 50; the smaller of two).

    Parameters
    ----------
    n_pairs : sequence of int
        Numbers of image pairs.
    repeats : int
        Repetitions of each cross-validation.
    repeats_small : int, optional
        Repetitions for the smaller half (default ``repeats``).

    Returns
    -------
    dict of int to int

    Examples
    --------
    >>> repeats_per_n([8, 16, 32, 64], repeats=2, repeats_small=4)
    {8: 4, 16: 4, 32: 2, 64: 2}
    >>> repeats_per_n([10, 30, 50], repeats=3, repeats_small=5)
    {10: 5, 30: 3, 50: 3}
    """
    ns = sorted(int(n) for n in n_pairs)
    small = set(ns[: len(ns) // 2]) if repeats_small is not None else set()
    return {n: int(repeats_small) if n in small else int(repeats) for n in ns}


def scaled_epochs(n, n_max, epochs):
    """Epochs for N pairs, scaled linearly with N: the largest N gets ``epochs``.

    Parameters
    ----------
    n, n_max : int
        This number of pairs and the largest of the sweep.
    epochs : int
        Epochs of the largest N (the profile's, or an override).

    Returns
    -------
    int
        ``round(epochs * n / n_max)``, at least 1.

    Examples
    --------
    >>> [scaled_epochs(n, 64, 100) for n in (8, 16, 32, 64)]
    [12, 25, 50, 100]
    """
    return max(1, int(round(epochs * n / n_max)))


def plan_crossval(n_images, n_pairs, folds, repeats=1, repeats_small=None, seed=0):
    """Plan a repeated K-fold cross-validation over numbers of image pairs.

    For each N and repetition, N pairs are drawn at random (without
    replacement) from all ``n_images`` pairs and split into ``folds`` folds
    **by pair**; each fold is the test set of one training on the other
    folds. Every drawn pair is tested exactly once per repetition, and no
    pair is ever both trained on and tested in one fold.

    Parameters
    ----------
    n_images : int
        Image pairs available.
    n_pairs : sequence of int
        Numbers of pairs N to draw (each at most ``n_images``).
    folds : int
        K, at least 2 and at most the smallest N.
    repeats, repeats_small : int
        Repetitions per N (see :func:`repeats_per_n`).
    seed : int
        Seed of the draws and of the trainings (same seed, same plan).

    Returns
    -------
    list of dict
        One entry per task, sorted by (N, repetition, fold): ``n_pairs``,
        ``repeat``, ``fold``, ``pairs`` (the N drawn image indices),
        ``train`` and ``test`` (sorted indices), ``seed`` (training seed).

    Raises
    ------
    ValueError
        No N, N larger than the images available, K < 2, K larger than the
        smallest N allows (every fold needs a test pair), or too few pairs
        left for training (at least 2: one trains, one validates).

    Examples
    --------
    >>> plan = plan_crossval(n_images=10, n_pairs=[4], folds=2, seed=1)
    >>> [(t["fold"], t["train"], t["test"]) for t in plan]
    [(0, [8, 9], [3, 4]), (1, [3, 4], [8, 9])]
    >>> plan_crossval(n_images=6, n_pairs=[4, 8], folds=2)
    Traceback (most recent call last):
    ...
    ValueError: N = 8 pairs asked for, but there are only 6 image pairs
    """
    ns = sorted({int(n) for n in n_pairs})
    if not ns:
        raise ValueError("give at least one number of pairs N")
    if any(n < 1 for n in ns):
        raise ValueError(f"numbers of pairs must be positive, got {ns}")
    if ns[-1] > n_images:
        raise ValueError(f"N = {ns[-1]} pairs asked for, but there are only {n_images} image pairs")
    folds = int(folds)
    if folds < 2:
        raise ValueError(f"K = {folds} folds: cross-validation needs at least 2")
    if folds > ns[0]:
        raise ValueError(
            f"K = {folds} folds cannot be made from N = {ns[0]} pairs: every fold needs at least "
            f"one test pair (use K <= {ns[0]} or a larger smallest N)"
        )
    if ns[0] - math.ceil(ns[0] / folds) < 2:
        raise ValueError(
            f"N = {ns[0]} with K = {folds} folds leaves {ns[0] - math.ceil(ns[0] / folds)} training "
            "pair(s); at least 2 are needed (one trains, one validates)"
        )
    reps = repeats_per_n(ns, repeats, repeats_small)
    if any(r < 1 for r in reps.values()):
        raise ValueError(f"repetitions must be at least 1, got {reps}")
    plan = []
    for n in ns:
        for r in range(reps[n]):
            rng = np.random.default_rng([int(seed), n, r])
            drawn = [int(i) for i in rng.choice(n_images, size=n, replace=False)]
            parts = np.array_split(np.array(drawn), folds)
            for k, test in enumerate(parts):
                test = sorted(int(i) for i in test)
                train = sorted(i for i in drawn if i not in test)
                state = np.random.SeedSequence([int(seed), n, r, k]).generate_state(1)[0]
                plan.append(
                    {
                        "n_pairs": n,
                        "repeat": r,
                        "fold": k,
                        "pairs": sorted(drawn),
                        "train": train,
                        "test": test,
                        "seed": int(state % 2**31),
                    }
                )
    return plan


def crossval_tasks(plan, data, profile=DEFAULT_PROFILE, loss="l1", overrides=None, prefilter=None, scale_epochs=True):
    """Turn a plan into tasks: one JSON experiment per (N, repetition, fold).

    Parameters
    ----------
    plan : list of dict
        From :func:`plan_crossval`.
    data : dict
        The experiments' data (see :class:`~l2l_helpers.experiments.experiment.Experiment`):
        ``{"simulate": {...}}`` or ``{"input_dir": ..., "target_dir": ...[, "ground_truth_dir": ...]}``.
    profile, loss : str
        Training profile and loss.
    overrides : dict, optional
        Profile settings to replace. ``epochs`` (or the profile's) is what
        the largest N trains for.
    prefilter : float, optional
        Sigma of a Gaussian filter applied to every image before scoring
        (the paper used 1.5 for caveolae).
    scale_epochs : bool
        Scale epochs linearly with N (:func:`scaled_epochs`), as the paper did.

    Returns
    -------
    list of dict
        ``{"n_pairs", "repeat", "fold", "experiment": Experiment.to_dict(), "prefilter"}``: plain data,
        what :func:`run_task` takes.

    Examples
    --------
    >>> plan = plan_crossval(n_images=8, n_pairs=[4, 8], folds=4)
    >>> tasks = crossval_tasks(plan, {"simulate": {"structure": "actin", "n": 8}}, profile="quick")
    >>> [t["experiment"]["overrides"]["epochs"] for t in tasks if t["fold"] == 0]
    [2, 5]
    """
    from l2l_helpers.experiments.experiment import Experiment
    from l2l_helpers.training.profiles import care_settings

    overrides = dict(overrides or {})
    base_epochs = care_settings(profile, **overrides).epochs
    n_max = max(t["n_pairs"] for t in plan)
    tasks = []
    for t in plan:
        o = dict(overrides)
        o["epochs"] = scaled_epochs(t["n_pairs"], n_max, base_epochs) if scale_epochs else base_epochs
        exp = Experiment(
            data=data,
            method="l2l",
            loss=loss,
            profile=profile,
            overrides=o,
            seed=t["seed"],
            train_images=t["train"],
            test_images=t["test"],
        )
        tasks.append(
            {
                "n_pairs": t["n_pairs"],
                "repeat": t["repeat"],
                "fold": t["fold"],
                "experiment": exp.to_dict(),
                "prefilter": None if prefilter is None else float(prefilter),
            }
        )
    return tasks
