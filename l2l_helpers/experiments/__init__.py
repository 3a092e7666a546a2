"""Experiments and sweeps: many trainings, planned, run on Dask, resumed and summarised.

Lessons 07 (how many pairs) and 09 (the paper's claims against the ground truth).

- :mod:`.experiment`: one experiment as plain data, run by one pure function;
- :mod:`.crossval`: repeated cross-validation over the number of training pairs;
- :mod:`.validate`: every method on the same held-out cells, in one table;
- :mod:`.claims`: the paper's claims turned into measured tests with verdicts.
"""

from l2l_helpers.course._quiet_tf import install as _quiet_tensorflow

_quiet_tensorflow()  # its modules import TensorFlow: hide its start-up notices (CONTRIBUTING, "No side effects")
