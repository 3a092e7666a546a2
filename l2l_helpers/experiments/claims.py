"""The label2label paper's claims, each turned into a measured test: lesson 09's verdicts.

The paper (Kölln et al., J Cell Sci 2022) had no ground truth and judged
sharpening and hallucinations by eye. :func:`check_claims` takes the
table of ``l2l validate`` (:func:`l2l_helpers.experiments.validate.read_validation`;
every method on held-out simulated cells, scored against the truth), the
same kind of rows for a real image with synthetic label background
(:func:`l2l_helpers.data.semisynthetic.validate_on_image`) and the rows of a
cross-validation sweep (:func:`l2l_helpers.experiments.crossval.read_results`), and
decides, claim by claim and structure by structure, whether the numbers
bear the claim out. The criteria are fixed here, before looking at any
result, and each verdict carries the numbers it was decided on:

1. **Contrast** -- the L2L network (L1 loss) has a higher Michelson
   contrast than the input label, and than the target label.
2. **Background** -- N2N (L1) removes noise (PSNR against the truth above
   the input's) but keeps the label's background (at least half of the
   background of the 20-frame average, which has the noise but none of the
   background removed); L2L (L1) removes both (PSNR above the input's,
   less than half the average's background).
3. **MS-SSIM** -- (a) on tubulin, L2L with the 3- and 5-scale MS-SSIM
   losses gives narrower microtubules (FWHM) than with L1; (b) N2N with
   the 3-scale MS-SSIM loss invents more structure from background
   (hallucination score) than L2L with the same loss.
4. **CycleGAN** -- L2L (L1) scores a higher PSNR and SSIM against the
   truth than the CycleGAN trained on unpaired images.
5. **Classical filters** -- L2L (L1) scores a higher PSNR and SSIM
   against the truth than every classical filter.
6. **Training pairs** -- the largest number of pairs restores better than
   the smallest (mean relative change of NRMSE against the truth), and
   single folds scatter more with the fewest pairs (standard deviation).

A claim that holds for every structure is ``holds``, for some ``partly``,
for none ``does not hold``; without the rows to decide it, ``not
measured``. L2L and N2N are judged by their L1 networks throughout (the
paper's default loss; fixed in advance, not the best of several).

Examples
--------
>>> rows = [{"structure": "actin", "method": m, "status": "ok", "contrast": c}
...         for m, c in (("input", 0.3), ("target", 0.6), ("l2l_l1", 0.7))]
>>> v = check_claims(rows)[0]
>>> v["claim"], v["simulated"]
(1, 'holds')
>>> v["simulated_evidence"]
'actin: L2L 0.700 vs input 0.300, target 0.600'
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["CLAIMS", "VERDICTS", "check_claims", "format_verdicts"]

#: The claims, as lesson 09 tests them: number -> (short name, the claim, what the paper stated).
CLAIMS = {
    1: (
        "contrast",
        "L2L raises structural contrast above the input, and even above the target label",
        "claimed: restorations of higher structural contrast than the input and the target label",
    ),
    2: (
        "background",
        "N2N removes noise but keeps the label's background; L2L removes both",
        "claimed: N2N keeps the label's background, L2L removes noise and background",
    ),
    3: (
        "MS-SSIM",
        "MS-SSIM losses sharpen structure; with N2N they invent structure from background, with L2L much less",
        "claimed, judged by eye: MS-SSIM sharpens; N2N invents structure, L2L much less",
    ),
    4: (
        "CycleGAN",
        "the CNN (L2L) beats a CycleGAN trained on unpaired images",
        "claimed: the paired CNN restored better than the CycleGAN",
    ),
    5: ("classical filters", "L2L beats classical filters", "claimed: L2L restored better than classical filters"),
    6: (
        "training pairs",
        "more training pairs help, with a wide spread for few pairs",
        "claimed (Fig. 5): better with more pairs, a wide spread between cross-validations with few",
    ),
}
#: The verdicts, from best to worst.
VERDICTS = ("holds", "partly", "does not hold", "not measured")

_CLASSICAL = ("gaussian", "rolling_ball", "tophat", "clahe")
_REAL_CLAIMS = (1, 2, 5)  # the claims checked on real structure


def _table(rows):
    """``{structure: {method: row}}`` of the finished rows."""
    out = {}
    for r in rows or ():
        if r.get("status", "ok") == "ok":
            out.setdefault(r["structure"], {})[r["method"]] = r
    return out


def _value(row, key):
    try:
        v = float(row.get(key, math.nan))
    except (TypeError, ValueError):
        return math.nan
    return v


def _verdict(results):
    """``results``: list of (structure, passed or None, evidence) -> (verdict, evidence)."""
    decided = [(s, ok, e) for s, ok, e in results if ok is not None]
    if not decided:
        return "not measured", "; ".join(e for _, _, e in results) or "no rows"
    passed = sum(ok for _, ok, _ in decided)
    verdict = "holds" if passed == len(decided) else "partly" if passed else "does not hold"
    if verdict == "partly":
        verdict += f" ({passed}/{len(decided)})"
    return verdict, "; ".join(e for _, _, e in results)


def _claim1(structure, m):
    names = ("input", "target", "l2l_l1")
    if any(n not in m for n in names):
        return structure, None, f"{structure}: not measured ({', '.join(n for n in names if n not in m)} missing)"
    c = {n: _value(m[n], "contrast") for n in names}
    ok = c["l2l_l1"] > c["input"] and c["l2l_l1"] > c["target"]
    return (
        structure,
        bool(ok),
        (f"{structure}: L2L {c['l2l_l1']:.3f} vs input {c['input']:.3f}, target {c['target']:.3f}"),
    )


def _claim2(structure, m):
    names = ("input", "input_average", "n2n_l1", "l2l_l1")
    if any(n not in m for n in names):
        return structure, None, f"{structure}: not measured ({', '.join(n for n in names if n not in m)} missing)"
    avg = _value(m["input_average"], "background")
    psnr_in = _value(m["input"], "psnr_gt")
    n2n_bg, l2l_bg = _value(m["n2n_l1"], "background") / avg, _value(m["l2l_l1"], "background") / avg
    n2n_psnr, l2l_psnr = _value(m["n2n_l1"], "psnr_gt"), _value(m["l2l_l1"], "psnr_gt")
    ok = n2n_psnr > psnr_in and n2n_bg >= 0.5 and l2l_psnr > psnr_in and l2l_bg < 0.5
    return (
        structure,
        bool(ok),
        (
            f"{structure}: background left (of the 20-frame average's) N2N {100 * n2n_bg:.0f} %, "
            f"L2L {100 * l2l_bg:.0f} %; PSNR input {psnr_in:.1f}, N2N {n2n_psnr:.1f}, "
            f"L2L {l2l_psnr:.1f} dB"
        ),
    )


def _claim3(table):
    results = []
    tub = table.get("tubulin", {})
    names = ("l2l_l1", "l2l_ms3", "l2l_ms5")
    if all(n in tub and math.isfinite(_value(tub[n], "fwhm_px")) for n in names):
        w = {n: _value(tub[n], "fwhm_px") for n in names}
        gt = next((_value(r, "fwhm_gt_px") for r in tub.values() if math.isfinite(_value(r, "fwhm_gt_px"))), math.nan)
        ok = w["l2l_ms3"] < w["l2l_l1"] and w["l2l_ms5"] < w["l2l_l1"]
        results.append(
            (
                "tubulin widths",
                bool(ok),
                f"tubulin FWHM: L1 {w['l2l_l1']:.2f}, MS-SSIM-3 "
                f"{w['l2l_ms3']:.2f}, MS-SSIM-5 {w['l2l_ms5']:.2f} px "
                f"(truth {gt:.2f} px)",
            )
        )
    else:
        results.append(("tubulin widths", None, "tubulin FWHM: not measured"))
    for structure, m in table.items():
        if "n2n_ms3" in m and "l2l_ms3" in m:
            h_n2n, h_l2l = _value(m["n2n_ms3"], "hallucination"), _value(m["l2l_ms3"], "hallucination")
            ok = None if not (math.isfinite(h_n2n) and math.isfinite(h_l2l)) else bool(h_n2n > h_l2l)
            results.append((structure, ok, f"{structure}: hallucination N2N-MS3 {h_n2n:.3f} vs L2L-MS3 {h_l2l:.3f}"))
    return _verdict(results)


def _beats(structure, m, others, what):
    if "l2l_l1" not in m or not any(o in m for o in others):
        return structure, None, f"{structure}: not measured"
    present = [o for o in others if o in m]
    best = {k: max(_value(m[o], f"{k}_gt") for o in present) for k in ("psnr", "ssim")}
    own = {k: _value(m["l2l_l1"], f"{k}_gt") for k in ("psnr", "ssim")}
    ok = own["psnr"] > best["psnr"] and own["ssim"] > best["ssim"]
    return (
        structure,
        bool(ok),
        (
            f"{structure}: L2L PSNR {own['psnr']:.1f} dB, SSIM {own['ssim']:.3f}; best {what} "
            f"{best['psnr']:.1f} dB, {best['ssim']:.3f}"
        ),
    )


def _claim6(crossval_rows):
    ok_rows = [r for r in crossval_rows or () if r.get("status", "ok") == "ok"]
    ns = sorted({int(r["n_pairs"]) for r in ok_rows})
    if len(ns) < 2:
        return "not measured", "needs a sweep over at least two numbers of pairs"

    def change(r):
        return (float(r["nrmse_restored_gt"]) - float(r["nrmse_input_gt"])) / float(r["nrmse_input_gt"])

    per_n = {n: np.array([change(r) for r in ok_rows if int(r["n_pairs"]) == n]) for n in ns}
    small, large = ns[0], ns[-1]
    better = per_n[large].mean() < per_n[small].mean()
    wider = per_n[small].std() > per_n[large].std()
    evidence = (
        f"NRMSE vs truth {100 * per_n[small].mean():+.1f} % with N = {small}, "
        f"{100 * per_n[large].mean():+.1f} % with N = {large}; single folds scatter (SD) "
        f"{100 * per_n[small].std():.1f} and {100 * per_n[large].std():.1f} points"
    )
    verdict = "holds" if better and wider else "partly" if better or wider else "does not hold"
    return verdict, evidence


def _per_structure(table, check):
    return _verdict([check(s, m) for s, m in table.items()])


def _checks(table, claim):
    if claim == 1:
        return _per_structure(table, _claim1)
    if claim == 2:
        return _per_structure(table, _claim2)
    if claim == 3:
        return _claim3(table)
    if claim == 4:
        return _per_structure(table, lambda s, m: _beats(s, m, ("cyclegan",), "CycleGAN"))
    if claim == 5:
        return _per_structure(table, lambda s, m: _beats(s, m, _CLASSICAL, "classical filter"))
    raise ValueError(claim)


def check_claims(validation_rows, real_rows=None, crossval_rows=None):
    """Decide each of the paper's claims from measured rows.

    Parameters
    ----------
    validation_rows : list of dict
        Rows of ``validation.csv`` (:func:`l2l_helpers.experiments.validate.read_validation`):
        ``structure``, ``method``, ``status`` and the score columns.
    real_rows : list of dict, optional
        The same columns for real structure
        (:func:`l2l_helpers.data.semisynthetic.validate_on_image`); claims 1, 2
        and 5 are checked on them.
    crossval_rows : list of dict, optional
        Rows of a cross-validation sweep (:func:`l2l_helpers.experiments.crossval.read_results`)
        for claim 6.

    Returns
    -------
    list of dict
        One per claim of :data:`CLAIMS`: ``claim`` (number), ``name``,
        ``text``, ``paper``, ``simulated`` and ``real`` (verdicts of
        :data:`VERDICTS`, ``partly`` with the count, e.g. ``"partly (2/4)"``),
        ``simulated_evidence`` and ``real_evidence`` (the numbers behind
        them). ``real`` is ``"not measured"`` for claims 3, 4 and 6 and
        without ``real_rows``.

    Examples
    --------
    >>> rows = [{"structure": "actin", "method": m, "status": "ok", "psnr_gt": p, "ssim_gt": s}
    ...         for m, p, s in (("l2l_l1", 25.0, 0.8), ("gaussian", 22.0, 0.6), ("clahe", 20.0, 0.7))]
    >>> v = check_claims(rows)[4]
    >>> v["name"], v["simulated"], v["real"]
    ('classical filters', 'holds', 'not measured')
    """
    sim, real = _table(validation_rows), _table(real_rows)
    out = []
    for claim, (name, text, paper) in CLAIMS.items():
        if claim == 6:
            s_verdict, s_evidence = _claim6(crossval_rows)
        else:
            s_verdict, s_evidence = _checks(sim, claim) if sim else ("not measured", "no validation rows")
        if claim in _REAL_CLAIMS and real:
            r_verdict, r_evidence = _checks(real, claim)
        else:
            r_verdict, r_evidence = (
                "not measured",
                ("not checked on real structure" if claim not in _REAL_CLAIMS else "no real-structure rows"),
            )
        out.append(
            {
                "claim": claim,
                "name": name,
                "text": text,
                "paper": paper,
                "simulated": s_verdict,
                "simulated_evidence": s_evidence,
                "real": r_verdict,
                "real_evidence": r_evidence,
            }
        )
    return out


def format_verdicts(verdicts, evidence=False):
    """The verdict table as Markdown: claim, paper, simulated, real structure.

    Parameters
    ----------
    verdicts : list of dict
        From :func:`check_claims`.
    evidence : bool
        Add the numbers behind each verdict below the table.

    Returns
    -------
    str

    Examples
    --------
    >>> row = format_verdicts(check_claims([])).splitlines()[2]
    >>> print(row.split(" | ")[0], "...", row.split(" | ")[-1])
    | 1. L2L raises structural contrast above the input, and even above the target label ... not measured |
    """
    lines = ["| claim | paper | simulated | real structure |", "|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v['claim']}. {v['text']} | {v['paper']} | {v['simulated']} | {v['real']} |")
    if evidence:
        lines.append("")
        for v in verdicts:
            lines.append(f"- **{v['claim']}. {v['name']}**, simulated: {v['simulated_evidence']}")
            if v["real"] != "not measured":
                lines.append(f"  real structure: {v['real_evidence']}")
    return "\n".join(lines) + "\n"
