"""Restoring images with a trained network or a classical filter, and exporting networks.

Lessons 03 (restoring and export) and 08 (classical filters).

- :mod:`.restorers`: one interface for everything that turns an image into a restoration, and
  :func:`~.restorers.load_restorer`, which loads any kind (CARE, CycleGAN, classical filter, bioimage.io);
- :mod:`.restore`: restore images and folders with any restorer;
- :mod:`.tiling`: predicting a large image in overlapping tiles (the CycleGAN's; CARE uses CSBDeep's);
- :mod:`.export`: BioImage Model Zoo packages of trained networks (:mod:`.export_package`: their model
  card and description; :mod:`.bioimageio_extra`: the optional extra they need).
"""

from l2l_helpers.course._quiet_tf import install as _quiet_tensorflow

_quiet_tensorflow()  # its modules import TensorFlow: hide its start-up notices (CONTRIBUTING, "No side effects")
