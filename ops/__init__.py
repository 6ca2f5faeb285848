"""The operator library: one registry (`ops.registry`), every op defined once in a family module."""
