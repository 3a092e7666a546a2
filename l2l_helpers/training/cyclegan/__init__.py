"""CycleGAN: learn to restore from two *unpaired* sets of images (lesson 05).

Label2label needs pairs: the same cell imaged in the input and the target
label. A CycleGAN (Zhu et al. 2017) only needs a folder of inputs and a
folder of targets, which may show different cells and hold different numbers
of images. Two generators translate between the two domains, ``G_AB``
(input A -> target B, the restorer) and ``G_BA`` (target -> input); two
discriminators tell real from generated images of one domain, ``D_B``
(targets vs ``G_AB``'s outputs) and ``D_A`` (inputs vs ``G_BA``'s outputs).
The generators learn to fool the discriminators while a translated image,
translated back, must give the original again (cycle consistency).

This package follows the reference implementation
(junyanz/pytorch-CycleGAN-and-pix2pix, ``models/networks.py``,
``models/cycle_gan_model.py``, ``util/image_pool.py``) in Keras 3, with the
label2label paper's changes (batch size 4, weights drawn from
N(0, 0.0005)):

* generator: ResNet with reflection padding, instance normalisation and
  ReLU; a 7x7 convolution of ``gen_n_first`` filters, two stride-2 3x3
  convolutions, ``gen_n_blocks`` residual blocks, two stride-2 transposed
  3x3 convolutions, a 7x7 convolution and tanh (:func:`build_generator`);
* discriminator: the 70x70 PatchGAN (4x4 convolutions, LeakyReLU 0.2,
  instance normalisation except after the first layer; a 256x256 image
  gives a 30x30 map of real/fake scores; :func:`build_discriminator`);
* losses: least-squares GAN loss (mean squared error against 1 for real and
  0 for fake; the discriminators' loss halved), L1 cycle-consistency loss
  of weight ``lambda_cycle`` (10) and L1 identity loss of weight
  ``lambda_identity * lambda_cycle`` (0.5 * 10);
* Adam (learning rate 2e-4, beta_1 0.5) for the generators and another
  for the discriminators; the learning rate is constant for ``n_epochs``
  epochs and then decays linearly towards zero over ``n_epochs_decay``
  epochs (:func:`learning_rate_factor`);
* the discriminators see generated images through a pool of the last 50
  (:class:`ImagePool`);
* images are normalised by percentiles (as for CARE,
  :func:`l2l_helpers.training.prepare.normalize`), mapped to [-1, 1] and cropped at
  random positions (with random horizontal flips).

Modules:

- :mod:`.settings`: :class:`CycleGANSettings` and the profiles (:data:`CYCLEGAN_PROFILES`);
- :mod:`.networks`: generator, discriminator, instance norm, reflection padding, initial weights;
- :mod:`.data`: images in [-1, 1], random crops, the image pool;
- :mod:`.model_folder`: the files of a model folder (:class:`CycleGANRecord`);
- :mod:`.model`: the four networks, two optimizers and two training steps as one object;
- :mod:`.training`: :func:`train_cyclegan` (two lists of images);
- :mod:`.folders`: :func:`train_cyclegan_from_folders` (two folders; what
  :func:`l2l_helpers.training.folders.train_from_folders` runs for ``method="cyclegan"``);
- :mod:`.restorer`: :class:`CycleGANRestorer`, ``G_AB`` as a restorer (in tiles for large
  images, :func:`l2l_helpers.restoring.tiling.predict_tiled`).

Everything is written to the model folder after every epoch, so ``resume=True``
continues an interrupted run from its last finished epoch, exactly as if it had
not stopped (on the CPU).

TensorFlow is imported only when a network is built, trained or loaded;
``import l2l_helpers.training.cyclegan`` is light.
"""

from l2l_helpers.training.cyclegan.data import ImagePool, from_model_range, to_model_range
from l2l_helpers.training.cyclegan.folders import train_cyclegan_from_folders
from l2l_helpers.training.cyclegan.model_folder import (
    CYCLEGAN_FILES,
    HISTORY_COLUMNS,
    NETWORKS,
    POOLS_NPZ,
    WEIGHT_FILES,
    CycleGANRecord,
    read_history,
)
from l2l_helpers.training.cyclegan.networks import (
    build_discriminator,
    build_generator,
    init_weights,
    instance_norm,
    reflection_padding,
)
from l2l_helpers.training.cyclegan.restorer import CycleGANRestorer
from l2l_helpers.training.cyclegan.settings import (
    CYCLEGAN_PROFILES,
    CycleGANSettings,
    cyclegan_settings,
    profile_cyclegan_settings,
)
from l2l_helpers.training.cyclegan.training import (
    CycleGANResult,
    learning_rate_factor,
    train_cyclegan,
)

__all__ = [
    "CYCLEGAN_PROFILES",
    "CycleGANSettings",
    "NETWORKS",
    "WEIGHT_FILES",
    "POOLS_NPZ",
    "CYCLEGAN_FILES",
    "HISTORY_COLUMNS",
    "cyclegan_settings",
    "profile_cyclegan_settings",
    "learning_rate_factor",
    "instance_norm",
    "reflection_padding",
    "build_generator",
    "build_discriminator",
    "init_weights",
    "ImagePool",
    "to_model_range",
    "from_model_range",
    "CycleGANRecord",
    "CycleGANResult",
    "train_cyclegan",
    "train_cyclegan_from_folders",
    "read_history",
    "CycleGANRestorer",
]


def __getattr__(name):  # the Keras layer class, defined when first asked for (Keras imports TensorFlow)
    if name == "ReflectionPadding2D":
        from l2l_helpers.training.cyclegan import networks

        return networks.ReflectionPadding2D
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
