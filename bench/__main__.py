"""`python -m bench`: run the workloads, print the table, write the JSON and the chart (see bench/README.md)."""
import sys

from bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
