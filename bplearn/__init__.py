"""bplearn: learn backpropagation by doing it.

The package reads top to bottom in the order the course teaches it (see README.md
beside this file for the map):

    engine      Value: scalar autograd, each operation's backward beside its forward
    nn          Module, Parameter, Sequential, one file per layer, losses, init
    optim       SGD, Adam, RMSprop and gradient clipping
    gradcheck   finite-difference gradient checking
    data        toy sets, images (shipped digits), sequences; no downloads
    train       fit(): the training loop, with history and progress bar
    models      ready-made models for the lessons (digits_cnn) and to_torch
    explain     trace, plots and step-through widgets of real forward/backward passes
    feedback    the learner's self-checks: specific, kind messages
    grading     instructor autograding with nbgrader (not needed by learners)
    errors      every exception bplearn raises on purpose

    from bplearn import nn, optim, data, train
"""
__version__ = "0.3.0"
