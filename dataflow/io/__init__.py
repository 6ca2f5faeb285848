"""`mx.io`: data iterators for the Module API (`io.py`: `DataDesc`, `DataBatch`, `DataIter`, `NDArrayIter`,
`ResizeIter`; `file_iters.py`: `CSVIter`, `LibSVMIter`, `MNISTIter`; `prefetching.py`: `PrefetchingIter`) and their
helpers (`utils.py`), at MXNet's module paths."""
from . import io, utils  # noqa: F401
from .io import DataBatch, DataDesc, DataIter, NDArrayIter, ResizeIter
from .file_iters import CSVIter, LibSVMIter, MNISTIter
from .prefetching import PrefetchingIter
from .image_record import ImageRecordIter, ImageRecordUInt8Iter  # noqa: F401  (RecordIO image batches)
from .utils import _getdata_by_idx, _has_instance, _init_data  # noqa: F401

__all__ = ["DataBatch", "DataDesc", "DataIter", "NDArrayIter", "ResizeIter", "CSVIter", "LibSVMIter", "MNISTIter",
           "PrefetchingIter"]
# `doctest.testmod(mx.io)` runs the classes' examples, which live in io.py
__test__ = {name: globals()[name] for name in __all__}
