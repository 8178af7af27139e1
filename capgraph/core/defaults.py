"""Defaults shared by the library and the command line, defined once.

The library's functions take these as their default arguments and the CLI shows them in
``--help``; keeping them in a module that imports nothing lets ``capgraph --help`` read them
without loading numpy or the engine.
"""

#: Seed of every random draw (Monte Carlo samples, bootstrap resamples): same seed, same output.
DEFAULT_SEED = 0
#: Monte Carlo samples of a map with parameter ranges (``--samples``).
DEFAULT_SAMPLES = 2000
#: Bootstrap refits behind a fitted curve's 90% intervals (``capgraph fit --bootstrap``).
DEFAULT_BOOTSTRAP = 1000
#: Curve family ``capgraph fit`` and ``backtest`` fit by default.
DEFAULT_CURVE = "logistic"
#: Bootstrap resamples behind a loss law's intervals (``capgraph fit-loss --resamples``).
LOSS_RESAMPLES = 100
#: Runs trained on fewer tokens than this fraction of their parameters are dropped by ``fit-loss``.
MIN_TOKENS_PER_PARAM = 0.45
#: The lenses picture: a 10-token exact-match answer, 4-option multiple choice.
LENS_LENGTH = 10.0
LENS_OPTIONS = 4
