"""One module per SOE node type."""
