"""Running the course: notebooks executed headless, their memory, progress bars.

Used by ``l2l course`` and ``python3 tasks.py course`` (every lesson).

- :mod:`.runner`: execute every notebook headless and collect the results;
- :mod:`.memory`: peak memory of a process tree, as Binder or Colab counts it;
- :mod:`.progress`: progress bars that also read well in a saved notebook;
- :mod:`.machine`: the CPU and a fixed speed probe (``python -m l2l_helpers.course.machine``; ``.ci/run`` prints it).
"""
