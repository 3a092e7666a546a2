"""Shared test set-up: a headless matplotlib and quiet TensorFlow.

Only this process draws with Agg: notebook kernels started by nbval inherit
``MPLBACKEND`` (``python3 tasks.py test`` sets the inline backend, as Jupyter
and ``l2l course`` use), so figures appear in their outputs as in the
committed notebooks.
"""

import os

import matplotlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
matplotlib.use("Agg")
