"""`mx.gluon.data`: datasets, samplers and the DataLoader that batches them."""
from .dataloader import DataLoader  # noqa: F401
from .dataset import ArrayDataset, Dataset, RecordFileDataset, SimpleDataset  # noqa: F401
from .sampler import BatchSampler, FilterSampler, RandomSampler, Sampler, SequentialSampler  # noqa: F401
from . import vision  # noqa: F401,E402
