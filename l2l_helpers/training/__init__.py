"""Training networks: profiles, training data, losses, CARE and the CycleGAN.

Lessons 03 (N2N and L2L), 04 (losses) and 05 (CycleGAN).

- :mod:`.profiles`: the profiles ``quick``, ``workshop`` and ``paper``, ``care_config`` and where results go;
- :mod:`.normalization`: percentile and mean/standard-deviation normalisation (training and restoring);
- :mod:`.augment`: zoom, rotation and Poisson noise of training pairs;
- :mod:`.prepare`: patches (training data split by image);
- :mod:`.losses`: L1, MSE, SSIM and MS-SSIM losses;
- :mod:`.seeding`: seeded blocks that leave no global random state behind;
- :mod:`.record`: the record of a model folder (``l2l_training.json``), one type for every training;
- :mod:`.upgrade`: the one reader of records written by l2l 0.1.0;
- :mod:`.care`: CSBDeep's CARE with resumable, recorded training;
- :mod:`.train`: ``train_model``;
- :mod:`.folders`: ``train_from_folders`` (``l2l train``; CARE or, by ``method="cyclegan"``, a CycleGAN);
- :mod:`.load`: ``load_model``, ``read_training_info``, ``read_history``, reuse of a finished training;
- :mod:`.cyclegan`: the reference CycleGAN for unpaired images.
"""

from l2l_helpers.course._quiet_tf import install as _quiet_tensorflow

_quiet_tensorflow()  # its modules import TensorFlow: hide its start-up notices (CONTRIBUTING, "No side effects")
