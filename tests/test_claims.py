"""Specification of l2l_helpers.experiments.claims: the paper's claims decided from measured rows."""

import math

from l2l_helpers.experiments.claims import CLAIMS, VERDICTS, check_claims, format_verdicts


def _rows(structure, **methods):
    """Rows of one structure: methods=dict(method=dict(column=value))."""
    return [{"structure": structure, "method": m, "status": "ok", **cols} for m, cols in methods.items()]


def _verdict(rows, claim, real=None, crossval=None):
    return next(v for v in check_claims(rows, real, crossval) if v["claim"] == claim)


GOOD = dict(
    input=dict(contrast=0.3, psnr_gt=20.0, ssim_gt=0.4, background=0.5, hallucination=0.0),
    input_average=dict(contrast=0.4, psnr_gt=22.0, ssim_gt=0.6, background=0.5),
    target=dict(contrast=0.6, psnr_gt=30.0, ssim_gt=0.9, background=0.05),
    n2n_l1=dict(contrast=0.4, psnr_gt=22.0, ssim_gt=0.6, background=0.45),
    l2l_l1=dict(contrast=0.7, psnr_gt=28.0, ssim_gt=0.85, background=0.05),
    gaussian=dict(psnr_gt=21.0, ssim_gt=0.5),
    clahe=dict(psnr_gt=19.0, ssim_gt=0.45),
    cyclegan=dict(psnr_gt=24.0, ssim_gt=0.7),
    n2n_ms3=dict(hallucination=0.3),
    l2l_ms3=dict(hallucination=0.05),
)


def test_every_claim_gets_one_verdict_in_order():
    verdicts = check_claims(_rows("actin", **GOOD))
    assert [v["claim"] for v in verdicts] == list(CLAIMS)
    assert all(v["simulated"].split(" (")[0] in VERDICTS and v["real"] in VERDICTS for v in verdicts)


def test_claim_1_holds_only_when_l2l_beats_input_and_target():
    assert _verdict(_rows("actin", **GOOD), 1)["simulated"] == "holds"
    worse = dict(GOOD, l2l_l1=dict(GOOD["l2l_l1"], contrast=0.5))  # above the input, below the target
    assert _verdict(_rows("actin", **worse), 1)["simulated"] == "does not hold"


def test_partly_counts_the_structures_that_pass():
    worse = dict(GOOD, l2l_l1=dict(GOOD["l2l_l1"], contrast=0.5))
    v = _verdict(_rows("actin", **GOOD) + _rows("tubulin", **worse), 1)
    assert v["simulated"] == "partly (1/2)"
    assert "actin: L2L 0.700" in v["simulated_evidence"] and "tubulin: L2L 0.500" in v["simulated_evidence"]


def test_claim_2_needs_n2n_to_keep_half_the_average_background():
    assert _verdict(_rows("actin", **GOOD), 2)["simulated"] == "holds"
    cleaned = dict(GOOD, n2n_l1=dict(GOOD["n2n_l1"], background=0.1))  # N2N removed the background too
    assert _verdict(_rows("actin", **cleaned), 2)["simulated"] == "does not hold"


def test_claim_3_compares_tubulin_widths_and_hallucinations():
    tub = dict(
        GOOD,
        l2l_l1=dict(GOOD["l2l_l1"], fwhm_px=3.0, fwhm_gt_px=2.0),
        l2l_ms3=dict(hallucination=0.05, fwhm_px=2.5),
        l2l_ms5=dict(fwhm_px=2.6),
    )
    assert _verdict(_rows("tubulin", **tub), 3)["simulated"] == "holds"
    blunt = dict(tub, l2l_ms5=dict(fwhm_px=3.2))
    v = _verdict(_rows("tubulin", **blunt), 3)
    assert v["simulated"] == "partly (1/2)" and "truth 2.00 px" in v["simulated_evidence"]


def test_claim_3_without_widths_is_decided_on_hallucinations_alone():
    v = _verdict(_rows("actin", **GOOD), 3)
    assert v["simulated"] == "holds" and "not measured" in v["simulated_evidence"]


def test_claims_4_and_5_need_psnr_and_ssim_above_every_competitor():
    assert _verdict(_rows("actin", **GOOD), 4)["simulated"] == "holds"
    assert _verdict(_rows("actin", **GOOD), 5)["simulated"] == "holds"
    sharp_filter = dict(GOOD, clahe=dict(psnr_gt=19.0, ssim_gt=0.9))
    assert _verdict(_rows("actin", **sharp_filter), 5)["simulated"] == "does not hold"


def test_failed_rows_are_ignored():
    rows = _rows("actin", **GOOD)
    rows.append({"structure": "actin", "method": "cyclegan", "status": "failed", "psnr_gt": math.nan})
    rows = [r for r in rows if not (r["method"] == "cyclegan" and r["status"] == "ok")]
    assert _verdict(rows, 4)["simulated"] == "not measured"


def test_real_rows_decide_only_claims_1_2_and_5():
    verdicts = check_claims(_rows("actin", **GOOD), real_rows=_rows("actin (real)", **GOOD))
    assert [v["real"] for v in verdicts] == ["holds", "holds", "not measured", "not measured", "holds", "not measured"]


def _fold(n, restored, repeat=0, fold=0):
    return {
        "n_pairs": n,
        "repeat": repeat,
        "fold": fold,
        "status": "ok",
        "nrmse_input_gt": 1.0,
        "nrmse_restored_gt": restored,
    }


def test_claim_6_needs_better_means_and_wider_spread_for_few_pairs():
    rows = [_fold(4, 0.8, fold=0), _fold(4, 1.2, fold=1), _fold(16, 0.7, fold=0), _fold(16, 0.72, fold=1)]
    assert _verdict([], 6, crossval=rows)["simulated"] == "holds"
    narrow = [_fold(4, 0.95, fold=0), _fold(4, 0.96, fold=1), _fold(16, 0.6, fold=0), _fold(16, 0.8, fold=1)]
    assert _verdict([], 6, crossval=narrow)["simulated"] == "partly"


def test_claim_6_without_a_sweep_is_not_measured():
    assert _verdict([], 6)["simulated"] == "not measured"


def test_verdict_table_has_a_row_per_claim_and_evidence_on_request():
    text = format_verdicts(check_claims(_rows("actin", **GOOD)), evidence=True)
    assert text.count("\n| ") == len(CLAIMS)  # a line per claim below the heading
    assert "- **1. contrast**, simulated: actin: L2L 0.700" in text
