"""bplearn: learn backpropagation by doing it.

    engine      scalar autograd (Value) for the first lessons
    nn          layers and losses with explicit forward/backward, named like torch.nn
    optim       SGD, Adam, RMSprop, clip_grad_norm
    init        Xavier/Glorot and He/Kaiming initialisation, manual_seed
    gradcheck   finite-difference gradient checking
    data        toy data sets and a mini-batch DataLoader
    imagedata   handwritten digits (shipped) and synthetic shapes
    seqdata     sequence tasks: adding problem, copy memory, reversal, text
    train       fit(): the training loop, with history and progress bar
    models      ready-made models used by the lessons (digits_cnn, to_torch)
    trace, viz, widgets   step-through views of forward and backward passes
    grading     self-check feedback and the nbgrader autograding driver
"""
__version__ = "0.1.0"
