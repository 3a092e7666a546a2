"""The CycleGAN as one object: four networks, two optimizers and the two training steps.

Losses as in the reference: least-squares GAN loss (mean squared error
against 1 for real and 0 for fake; the discriminators' loss halved), L1
cycle-consistency loss of weight ``lambda_cycle`` and L1 identity loss of
weight ``lambda_identity * lambda_cycle``; Adam with PyTorch's epsilon
(1e-8) for the generators and another for the discriminators.

TensorFlow is imported when a :class:`CycleGANModel` is made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ModelError
from l2l_helpers.training.cyclegan.model_folder import NETWORKS, WEIGHT_FILES
from l2l_helpers.training.cyclegan.networks import build_discriminator, build_generator

__all__ = ["CycleGANModel"]

_ADAM_EPSILON = 1e-8  # PyTorch's default (Keras': 1e-7)


class _OptimizerPair:
    """Both optimizers as one for TrainingRecord.save_optimizer / load_optimizer (one ``optimizer_last.npz``)."""

    def __init__(self, opt_g, g_vars, opt_d, d_vars):
        self.parts = ((opt_g, g_vars), (opt_d, d_vars))

    @property
    def variables(self):
        return [v for opt, _ in self.parts for v in opt.variables]

    def build(self, _variables=None):
        for opt, var_list in self.parts:
            if not opt.built:
                opt.build(var_list)


def _build_networks(s, seed_sequence):
    """``G_AB``, ``G_BA``, ``D_A``, ``D_B`` of settings ``s``, each drawn from its own child of ``seed_sequence``."""
    g_seed, gb_seed, da_seed, db_seed = (np.random.default_rng(c) for c in seed_sequence.spawn(4))
    return {
        "G_AB": build_generator(s.gen_n_blocks, s.gen_n_first, s.init_gain, g_seed, name="G_AB"),
        "G_BA": build_generator(s.gen_n_blocks, s.gen_n_first, s.init_gain, gb_seed, name="G_BA"),
        "D_A": build_discriminator(s.disc_n_first, s.disc_n_layers, s.init_gain, da_seed, name="D_A"),
        "D_B": build_discriminator(s.disc_n_first, s.disc_n_layers, s.init_gain, db_seed, name="D_B"),
    }


def _adam(s, name):
    import keras

    return keras.optimizers.Adam(s.learning_rate, beta_1=s.beta_1, beta_2=0.999, epsilon=_ADAM_EPSILON, name=name)


def _mse(pred, value):  # least-squares GAN loss against an all-`value` map
    import tensorflow as tf

    return tf.reduce_mean(tf.square(pred - value))


def _l1(a, b):
    import tensorflow as tf

    return tf.reduce_mean(tf.abs(a - b))


def _generator_step(nets, optimizer, variables, lam, lam_idt):
    """The generators' update: a ``tf.function(real_A, real_B) -> (fake_A, fake_B, losses)``."""
    import tensorflow as tf

    G_AB, G_BA, D_A, D_B = (nets[n] for n in NETWORKS)
    mse, l1 = _mse, _l1

    @tf.function
    def g_step(real_A, real_B):
        with tf.GradientTape() as tape:
            fake_B = G_AB(real_A, training=True)
            rec_A = G_BA(fake_B, training=True)
            fake_A = G_BA(real_B, training=True)
            rec_B = G_AB(fake_A, training=True)
            if lam_idt > 0:
                idt_B = l1(G_AB(real_B, training=True), real_B) * lam_idt
                idt_A = l1(G_BA(real_A, training=True), real_A) * lam_idt
            else:
                idt_A = idt_B = tf.constant(0.0)
            adv_AB = mse(D_B(fake_B, training=True), 1.0)
            adv_BA = mse(D_A(fake_A, training=True), 1.0)
            cyc_A = l1(rec_A, real_A) * lam
            cyc_B = l1(rec_B, real_B) * lam
            total = adv_AB + adv_BA + cyc_A + cyc_B + idt_A + idt_B
        grads = tape.gradient(total, variables)
        optimizer.apply_gradients(zip(grads, variables))
        losses = {"G_AB": adv_AB, "G_BA": adv_BA, "cycle_A": cyc_A, "cycle_B": cyc_B, "idt_A": idt_A, "idt_B": idt_B}
        return fake_A, fake_B, {**losses, "G": total}

    return g_step


def _discriminator_step(nets, optimizer, variables):
    """The discriminators' update: a ``tf.function(real_A, real_B, fake_A, fake_B) -> losses``."""
    import tensorflow as tf

    D_A, D_B = nets["D_A"], nets["D_B"]
    mse = _mse

    @tf.function
    def d_step(real_A, real_B, fake_A, fake_B):
        with tf.GradientTape() as tape:
            loss_A = 0.5 * (mse(D_A(real_A, training=True), 1.0) + mse(D_A(fake_A, training=True), 0.0))
            loss_B = 0.5 * (mse(D_B(real_B, training=True), 1.0) + mse(D_B(fake_B, training=True), 0.0))
            total = loss_A + loss_B
        grads = tape.gradient(total, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return {"D_A": loss_A, "D_B": loss_B}

    return d_step


class CycleGANModel:
    """The four networks, both optimizers and the two training steps (``tf.function``).

    Parameters
    ----------
    settings : CycleGANSettings
        Networks, optimizer and loss weights.
    seed_sequence : numpy.random.SeedSequence
        Randomness of the initial weights (one child per network).

    Attributes
    ----------
    nets : dict of keras.Model
        ``G_AB``, ``G_BA``, ``D_A``, ``D_B``.
    optimizers : object
        Both optimizers as one, for
        :meth:`~l2l_helpers.training.record.TrainingRecord.save_optimizer`.
    g_step, d_step : callable
        The generators' and the discriminators' update of one batch.

    Examples
    --------
    >>> from l2l_helpers.training.cyclegan.settings import CYCLEGAN_PROFILES
    >>> gan = CycleGANModel(CYCLEGAN_PROFILES["quick"], np.random.SeedSequence(0))
    >>> sorted(gan.nets)
    ['D_A', 'D_B', 'G_AB', 'G_BA']
    """

    def __init__(self, settings, seed_sequence):
        s = settings
        self.nets = _build_networks(s, seed_sequence)
        self.g_vars = self.nets["G_AB"].trainable_variables + self.nets["G_BA"].trainable_variables
        self.d_vars = self.nets["D_A"].trainable_variables + self.nets["D_B"].trainable_variables
        self.opt_g = _adam(s, "adam_G")
        self.opt_d = _adam(s, "adam_D")
        self.optimizers = _OptimizerPair(self.opt_g, self.g_vars, self.opt_d, self.d_vars)
        self.optimizers.build()
        lam = float(s.lambda_cycle)
        lam_idt = float(s.lambda_identity) * lam
        self.g_step = _generator_step(self.nets, self.opt_g, self.g_vars, lam, lam_idt)
        self.d_step = _discriminator_step(self.nets, self.opt_d, self.d_vars)

    def set_learning_rate(self, lr):
        """Set both optimizers' learning rate (the schedule is applied by the training loop)."""
        self.opt_g.learning_rate.assign(lr)
        self.opt_d.learning_rate.assign(lr)

    def save_weights(self, model_dir):
        """Write every network's weights (each to a temporary file first, then all renamed)."""
        tmps = {}
        for net, model in self.nets.items():
            tmps[net] = Path(model_dir) / f"{net}.tmp.weights.h5"
            model.save_weights(str(tmps[net]))
        for net, tmp in tmps.items():
            tmp.replace(Path(model_dir) / WEIGHT_FILES[net])

    def load_weights(self, model_dir):
        """Load every network's weights; :class:`~l2l_helpers.data.io.ModelError` names a file that does not fit."""
        for net, model in self.nets.items():
            path = Path(model_dir) / WEIGHT_FILES[net]
            try:
                model.load_weights(str(path))
            except Exception as exc:  # noqa: BLE001 - missing, truncated, other network
                raise ModelError(f"{path}: cannot load the weights ({type(exc).__name__}: {exc})") from exc
