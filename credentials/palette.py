"""The house colours of the printed documents (RGB, 0..1), shared by the transcript and
the club's term report so that the two look like one institution's paper.

The transcript's seal red and the report's signal red differ on purpose (the report's is
the web pages' ``#b42318``); each document keeps the tone it has always printed.
"""

from __future__ import annotations

RGB = tuple[float, float, float]

INK: RGB = (0.11, 0.11, 0.13)          # body text
GREY: RGB = (0.40, 0.40, 0.44)         # English halves, captions, notes
HEAD_FILL: RGB = (0.93, 0.93, 0.95)    # table header rows, label cells

# the transcript
SEAL_RED: RGB = (0.62, 0.09, 0.11)     # title, module headings, awards
GRID: RGB = (0.70, 0.70, 0.73)         # table rules and frames
MODULE_FILL: RGB = (0.975, 0.94, 0.92)  # a module's heading band
BAR_FILL: RGB = (0.70, 0.16, 0.17)     # hours per module
BAR_TRACK: RGB = (0.93, 0.90, 0.89)
TOTALS_FILL: RGB = (0.985, 0.975, 0.97)  # the summary's totals box

# the club's term report (scorecard)
SIGNAL_RED: RGB = (0.71, 0.14, 0.09)   # scores, weak indicators
SIGNAL_FILL: RGB = (0.96, 0.83, 0.81)  # the radar's polygon
LIGHT: RGB = (0.79, 0.80, 0.82)        # radar rings, table rules
WEAK_FILL: RGB = (0.99, 0.93, 0.92)    # rows of weak indicators
DIMENSION_FILL: RGB = (0.98, 0.95, 0.94)  # a dimension's band in the table
SCORE_TRACK: RGB = (0.93, 0.93, 0.95)  # behind a dimension's score bar
WHITE: RGB = (1, 1, 1)
