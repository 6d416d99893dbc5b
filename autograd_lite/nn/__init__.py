"""Networks: modules, layers, activations, losses (``autograd_lite.nn``).

Everything here is built from ops of the one op table; no math is repeated.

>>> import numpy as np
>>> import autograd_lite as al
>>> from autograd_lite import nn
>>> net = nn.MLP(4, [8, 3], activation="tanh", seed=0)
>>> loss = nn.CrossEntropyLoss()(net(np.ones((2, 4))), [0, 2])
>>> loss.backward()
>>> net[0].weight.grad.shape
(8, 4)
"""

from __future__ import annotations

from . import init, utils
from .activations import (
    ELU,
    Activation,
    Identity,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Step,
    Swish,
    Tanh,
    activation_module,
)
from .conv import AdaptiveAvgPool2d, AvgPool2d, Conv2d, Flatten, MaxPool2d, MaxUnpool2d
from .dropout import Dropout
from .embedding import Embedding
from .layers import MLP, Linear, Perceptron, Sequential
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HalfSquaredError, Loss, MSELoss
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .scalar import Layer, Neuron

__all__ = [
    "ELU",
    "GRU",
    "LSTM",
    "MLP",
    "RNN",
    "Activation",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "HalfSquaredError",
    "Identity",
    "LSTMCell",
    "Layer",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "Loss",
    "MSELoss",
    "MaxPool2d",
    "MaxUnpool2d",
    "Module",
    "Neuron",
    "PReLU",
    "Parameter",
    "Perceptron",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Step",
    "Swish",
    "Tanh",
    "activation_module",
    "init",
    "utils",
]
