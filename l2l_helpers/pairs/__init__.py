"""The two labels of a pair: which is input and which target, and how well they align.

Lessons 01 (contrast) and 02 (drift).

- :mod:`.contrast`: the paper's contrast protocol, and label roles decided from it;
- :mod:`.drift_estimation`: estimating the drift between two images of one field (SSIM search, phase correlation);
- :mod:`.drift`: applying it to pairs and folders, and checking estimates.
"""
