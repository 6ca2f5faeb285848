#!/usr/bin/env bash
# Install the real GluonCV and GluonNLP that tests/test_gluoncv.py runs on dataflow (it skips without them).
# Neither package depends on mxnet on PyPI; they are installed --no-deps so that only what their MXNet code paths
# import comes along (GluonCV's full list adds opencv-python, matplotlib, pandas, pyyaml). GluonNLP 0.10.0 is an
# sdist: pip builds its Cython tokenizer with the compiler here (Cython itself comes in pip's build isolation).
set -euo pipefail
PYTHON="${PYTHON:-python}"
"$PYTHON" -m pip install --no-deps "gluoncv==0.10.5" "gluonnlp==0.10.0"
"$PYTHON" -m pip install tqdm portalocker yacs autocfg Pillow requests packaging
