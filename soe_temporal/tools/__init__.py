"""Tools: the registry a worker is given, calling user code, the built-ins that need I/O,
and the documentation shipped for soe_explore_docs."""
