"""Command line tools of MXNet's `tools/` folder: `python -m dataflow.tools.im2rec` (image folders to RecordIO)."""
