"""Experiments and sweeps: many trainings, planned, run on Dask, resumed and summarised.

Lessons 07 (how many pairs) and 09 (the paper's claims against the ground truth).

- :mod:`.experiment`: one experiment as plain data, run by one pure function;
- :mod:`.sweep` (with :mod:`.workers`): the sweep engine: tasks run on Dask or inline, rows streamed into a
  resumable CSV, failed rows, the check that a resumed folder has the same settings;
- :mod:`.crossval` (with :mod:`.crossval_plan`, :mod:`.crossval_results`): repeated cross-validation over the
  number of training pairs;
- :mod:`.validate` (with :mod:`.validation_task`, :mod:`.validation_table`): every method on the same
  held-out cells, in one table; :mod:`.methods`: the table of methods;
- :mod:`.semisynthetic_check`: the claims checked on a degraded real image (lesson 09);
- :mod:`.claims`: the paper's claims turned into measured tests with verdicts.
"""

from l2l_helpers.course._quiet_tf import install as _quiet_tensorflow

_quiet_tensorflow()  # its modules import TensorFlow: hide its start-up notices (CONTRIBUTING, "No side effects")
