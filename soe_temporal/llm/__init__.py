"""LLM support: the call protocol and answer validation (pure, used by the engine inside
the workflow) and the providers that make the calls (I/O, used by the LLM activity).

Import providers from their own modules; this package imports nothing on purpose, so the
engine's imports stay pure.
"""
