"""Shared test set-up: a headless matplotlib and quiet TensorFlow."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
