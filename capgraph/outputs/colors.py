"""Colour-blind-safe colours for graphs and plots.

Values (all in [0, 1]) are coloured with viridis, a perceptually uniform sequential colormap that
stays ordered for the common colour-vision deficiencies and in greyscale: dark purple is 0, yellow
is 1. Lines in plots use the Okabe–Ito palette, designed to stay distinct under deuteranopia and
protanopia; with more lines than it has colours, they are sampled from viridis instead (ordered,
so neighbours in crossing order get neighbouring colours).
"""

from __future__ import annotations

import numpy as np

SEQUENTIAL = "viridis"

#: Okabe & Ito (2008), "Color Universal Design", without black (kept for text and thresholds).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


def _cmap():
    import matplotlib  # colormap data only; no figure machinery is loaded

    return matplotlib.colormaps[SEQUENTIAL]


def value_color(value: float) -> str:
    """The fill colour of a value in [0, 1] (clipped), as ``#rrggbb``.

    >>> value_color(0.0), value_color(1.0)
    ('#440154', '#fde725')
    """
    from matplotlib.colors import to_hex

    v = float(np.clip(value, 0.0, 1.0)) if np.isfinite(value) else 0.0
    return to_hex(_cmap()(v))


def luminance(color: str) -> float:
    """WCAG relative luminance of ``#rrggbb`` (0 black, 1 white)."""
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def text_color(background: str) -> str:
    """Black or white, whichever contrasts more with ``background``.

    >>> text_color("#440154"), text_color("#fde725")
    ('#ffffff', '#000000')
    """
    lum = luminance(background)
    # contrast ratio against white (1.05 / (lum + 0.05)) vs against black ((lum + 0.05) / 0.05)
    return "#ffffff" if 1.05 / (lum + 0.05) > (lum + 0.05) / 0.05 else "#000000"


def line_colors(n: int) -> list[str]:
    """``n`` distinguishable line colours: Okabe–Ito while they last, else viridis samples."""
    if n <= len(OKABE_ITO):
        return list(OKABE_ITO[:n])
    from matplotlib.colors import to_hex

    # stop short of viridis' pale yellow end, which is hard to see on white
    return [to_hex(_cmap()(t)) for t in np.linspace(0.0, 0.88, n)]
