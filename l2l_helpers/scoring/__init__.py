"""Scoring restorations against references and the ground truth.

Lessons 03-09: metrics (03, 04), background and hallucination (04, 05), separation of two labels (06),
what a biologist measures downstream (08).

- :mod:`.metrics`: PSNR, NRMSE, SSIM and multi-scale SSIM of restorations;
- :mod:`.background`: what a restoration leaves or invents where the truth has no structure;
- :mod:`.separation`: superposed labels, and how well two channels were separated (:mod:`.separation_measures`:
  the regions and measures it uses);
- :mod:`.downstream`: fibre widths (:mod:`.widths`: the line profiles and their Gaussian fits), binary masks,
  distance maps.
"""
