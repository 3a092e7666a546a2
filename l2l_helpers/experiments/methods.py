"""The restoration methods compared in lesson 09, in table order: one table for every validation.

:mod:`~l2l_helpers.experiments.validate` (simulated cells) and
:func:`l2l_helpers.data.semisynthetic.validate_on_image` (a degraded real
image) both write rows named by these methods, with the ``kind`` and
``loss`` columns of :data:`METHOD_TABLE`.

Examples
--------
>>> kind_and_loss("l2l_ms3"), kind_and_loss("rolling_ball"), kind_and_loss("target")
(('l2l', 'ms3'), ('classical', ''), ('data', ''))
>>> check_names(["target", "input"], list(METHODS), "method")
['input', 'target']
"""

from __future__ import annotations

__all__ = ["METHOD_TABLE", "METHODS", "TRAINED_METHODS", "UNTRAINED_METHODS", "check_names", "kind_and_loss"]

#: Every method, in table order: ``(kind, loss, what its row shows)``. ``kind``: ``data`` (an image as
#: acquired: the input, its average, the target), ``classical`` (a filter with the paper's preset), ``n2n``,
#: ``l2l`` or ``cyclegan`` (a trained network); ``loss``: the training loss of N2N and L2L networks.
METHOD_TABLE = {
    "input": ("data", "", "the input label, as acquired"),
    "input_average": ("data", "", "the average of 20 frames of the input label"),
    "gaussian": ("classical", "", "Gaussian filter (the paper's preset for the structure)"),
    "rolling_ball": ("classical", "", "rolling-ball background subtraction (the paper's preset)"),
    "tophat": ("classical", "", "white top-hat filter (the paper's preset)"),
    "clahe": ("classical", "", "CLAHE (the paper's preset)"),
    "n2n_l1": ("n2n", "l1", "noise2noise, L1 loss"),
    "n2n_ms3": ("n2n", "ms3", "noise2noise, 3-scale MS-SSIM loss"),
    "cyclegan": ("cyclegan", "", "CycleGAN trained on unpaired halves of the training cells"),
    "l2l_l1": ("l2l", "l1", "label2label, L1 loss"),
    "l2l_ssim": ("l2l", "ssim", "label2label, SSIM loss"),
    "l2l_ms3": ("l2l", "ms3", "label2label, 3-scale MS-SSIM loss"),
    "l2l_ms5": ("l2l", "ms5", "label2label, 5-scale MS-SSIM loss"),
    "target": ("data", "", "the target label (reference: not scored against itself)"),
}
#: The methods, in table order, with what each row shows.
METHODS = {name: description for name, (_, _, description) in METHOD_TABLE.items()}
#: Methods computed without training.
UNTRAINED_METHODS = tuple(m for m, (kind, _, _) in METHOD_TABLE.items() if kind in ("data", "classical"))
#: Methods that train a network (N2N and L2L networks first, then the CycleGAN).
TRAINED_METHODS = tuple(m for m, (kind, _, _) in METHOD_TABLE.items() if kind in ("n2n", "l2l")) + ("cyclegan",)


def kind_and_loss(method):
    """The ``kind`` and ``loss`` columns of a method's rows.

    Parameters
    ----------
    method : str
        A name of :data:`METHOD_TABLE`.

    Returns
    -------
    tuple of str
        ``(kind, loss)``; ``loss`` is empty for methods that are not N2N or L2L networks.

    Raises
    ------
    ValueError
        An unknown method.

    Examples
    --------
    >>> kind_and_loss("n2n_l1")
    ('n2n', 'l1')
    """
    if method not in METHOD_TABLE:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHOD_TABLE)}")
    kind, loss, _ = METHOD_TABLE[method]
    return kind, loss


def check_names(given, known, what):
    """``given`` in the order of ``known``, each once; unknown names (or none at all) are refused.

    Parameters
    ----------
    given : sequence of str
        Names asked for.
    known : sequence of str
        Names allowed, in their order.
    what : str
        What the names are, for the error (``"method"``, ``"structure"``).

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        Unknown names (named), or no name.

    Examples
    --------
    >>> check_names(["b", "x"], ["a", "b"], "letter")
    Traceback (most recent call last):
    ...
    ValueError: unknown letter 'x'; choose from a, b
    """
    given = list(given)
    unknown = [g for g in given if g not in known]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown))}; choose from {', '.join(known)}")
    if not given:
        raise ValueError(f"no {what} given; choose from {', '.join(known)}")
    return [k for k in known if k in given]  # known order, each once
