"""Specification of l2l_helpers.plotting.validation: lesson 09's bar charts."""

import matplotlib

matplotlib.use("Agg")

from l2l_helpers.plotting.validation import plot_validation  # noqa: E402


def _rows(values):
    return [{"structure": s, "method": m, "status": "ok", "hallucination": v} for (s, m), v in values.items()]


def test_a_bar_far_above_the_others_is_cut_off_so_the_others_stay_readable():
    rows = _rows({("actin", "n2n_l1"): 0.01, ("actin", "l2l_l1"): 0.02, ("caveolae", "l2l_l1"): 224.0})
    ax = plot_validation(rows, ["hallucination"], ["n2n_l1", "l2l_l1"]).axes[0]
    assert ax.get_ylim()[1] < 1.0
    assert any("224 (off scale)" in t.get_text() for t in ax.texts)


def test_bars_of_similar_height_are_all_shown_in_full():
    rows = _rows({("actin", "n2n_l1"): 0.5, ("actin", "l2l_l1"): 2.0})
    ax = plot_validation(rows, ["hallucination"], ["n2n_l1", "l2l_l1"]).axes[0]
    assert ax.get_ylim()[1] >= 2.0 and not ax.texts
