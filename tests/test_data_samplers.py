"""`gluon.data` samplers and datasets against MXNet 1.9.1's documented behaviour (its docstring examples and the
rules of its sources), `gluon.contrib.data.IntervalSampler`, and `vision.ImageListDataset` on real image files."""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataflow as mx
from dataflow.base import MXNetError
from dataflow.gluon.contrib.data import IntervalSampler
from dataflow.gluon.data import (ArrayDataset, BatchSampler, DataLoader, Dataset, FilterSampler, RandomSampler,
                                 SequentialSampler, SimpleDataset)
from dataflow.gluon.data.vision import ImageListDataset


# ---- samplers ---------------------------------------------------------------------------------------------------

def test_mxnet_docstring_examples():
    assert list(BatchSampler(SequentialSampler(10), 3, "keep")) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(IntervalSampler(13, interval=3)) == [0, 3, 6, 9, 12, 1, 4, 7, 10, 2, 5, 8, 11]
    assert list(IntervalSampler(13, interval=3, rollover=False)) == [0, 3, 6, 9, 12]


@settings(max_examples=30 if os.environ.get("CI") else 200, deadline=None)
@given(length=st.integers(1, 40), interval=st.integers(1, 40), rollover=st.booleans())
def test_interval_sampler(length, interval, rollover):
    if interval > length:
        with pytest.raises(AssertionError, match="must be smaller than or equal to length"):
            IntervalSampler(length, interval, rollover)
        return
    got = list(IntervalSampler(length, interval, rollover))
    # the independent truth: every interval-th index from each start offset, offsets in order
    want = [i for start in range(interval if rollover else 1) for i in range(start, length, interval)]
    assert got == want
    assert len(IntervalSampler(length, interval, rollover)) == length     # MXNet's len, even without rollover
    if rollover:
        assert sorted(got) == list(range(length))


@settings(max_examples=30 if os.environ.get("CI") else 200, deadline=None)
@given(length=st.integers(0, 30), batch=st.integers(1, 8), mode=st.sampled_from(["keep", "discard", "rollover"]),
       passes=st.integers(1, 4))
def test_batch_sampler_over_several_passes(length, batch, mode, passes):
    sampler = BatchSampler(SequentialSampler(length), batch, mode)
    carried = []
    for _ in range(passes):
        expected_len = len(sampler)
        batches = list(sampler)
        stream = carried + list(range(length))      # rollover: last pass's leftovers open this one
        full, rest = divmod(len(stream), batch)
        want = [stream[i * batch:(i + 1) * batch] for i in range(full)]
        if rest and mode == "keep":
            want.append(stream[full * batch:])
        carried = stream[full * batch:] if mode == "rollover" else []
        assert batches == want and expected_len == len(want)


def test_batch_sampler_rejects_an_unknown_last_batch():
    with pytest.raises(ValueError, match="last_batch must be one of 'keep', 'discard', or 'rollover'"):
        len(BatchSampler(SequentialSampler(5), 2, "drop"))
    with pytest.raises(ValueError, match="but got drop"):
        list(BatchSampler(SequentialSampler(5), 2, "drop"))


def test_sequential_random_and_filter_samplers():
    assert list(SequentialSampler(4, start=3)) == [3, 4, 5, 6] and len(SequentialSampler(4, 3)) == 4
    np.random.seed(5)
    first = list(RandomSampler(20))
    np.random.seed(5)
    assert list(RandomSampler(20)) == first          # numpy's global generator, as MXNet
    assert sorted(first) == list(range(20)) and first != list(range(20))
    evens = FilterSampler(lambda s: s % 2 == 0, SimpleDataset([3, 4, 6, 7, 8]))
    assert list(evens) == [1, 2, 4] and len(evens) == 3


# ---- datasets ---------------------------------------------------------------------------------------------------

class Counting(Dataset):
    """Sample i is i * 10; counts the reads."""

    def __init__(self, n):
        self.n, self.reads = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.reads += 1
        return i * 10


def test_shard_take_filter_sample():
    ds = Counting(10)
    shards = [ds.shard(4, i) for i in range(4)]
    assert [len(s) for s in shards] == [3, 3, 2, 2]                     # the first len % 4 get one more
    assert sum(([s[j] for j in range(len(s))] for s in shards), []) == [i * 10 for i in range(10)]
    for bad, match in (((4, 4), "Shard index of out bound"), ((0, -1), "Number of shards must be greater than 0"),
                       ((3, -1), "non-negative")):
        with pytest.raises(AssertionError, match=match):
            ds.shard(*bad)
    assert [ds.take(3)[i] for i in range(3)] == [0, 10, 20] and len(ds.take(30)) == 10 and len(ds.take(None)) == 10
    big = ds.filter(lambda x: x >= 70)
    assert len(big) == 3 and big[0] == 70
    picked = ds.sample(BatchSampler(SequentialSampler(4), 2))           # any Sampler: its items index the dataset
    assert len(picked) == 2
    with pytest.raises(TypeError, match="Expected gluon.data.Sampler"):
        ds.sample(range(3))


def test_transform_is_lazy_unless_asked_and_transform_first_keeps_the_label():
    ds = Counting(5)
    lazy = ds.transform(lambda x: x + 1)
    assert ds.reads == 0 and lazy[2] == 21 and ds.reads == 1 and len(lazy) == 5
    eager = ds.transform(lambda x: x + 1, lazy=False)
    assert ds.reads == 6 and isinstance(eager, SimpleDataset) and eager[4] == 41
    pairs = ArrayDataset(np.arange(4), np.arange(4) * 2)
    assert pairs.transform(lambda x, y: x * 100 + y)[3] == 306        # a tuple sample is unpacked
    first = pairs.transform_first(lambda x: -x)
    assert first[3] == (-3, 6)
    assert SimpleDataset([1, 2]).transform_first(lambda x: x * 5)[1] == 10


def test_array_dataset_rules():
    nd_labels = mx.nd.array([1.0, 2.0, 3.0])
    ds = ArrayDataset(mx.nd.arange(6).reshape((3, 2)), nd_labels, [7, 8, 9])
    x, y, z = ds[1]
    assert isinstance(x, mx.nd.NDArray) and x.asnumpy().tolist() == [2.0, 3.0]
    assert isinstance(y, np.float32) and y == 2.0 and z == 8            # a 1-D NDArray is read as numpy
    assert ArrayDataset([5, 6])[1] == 6                                 # one array: the sample itself
    with pytest.raises(AssertionError, match="Needs at least 1 arrays"):
        ArrayDataset()
    with pytest.raises(AssertionError, match=r"array\[0\] has length 3 while array\[2\] has 2"):
        ArrayDataset(np.zeros(3), np.zeros(2))


# ---- ImageListDataset -------------------------------------------------------------------------------------------

@pytest.fixture()
def image_folder(tmp_path):
    image = pytest.importorskip("PIL.Image")
    rng = np.random.RandomState(3)
    pixels = {}
    for name, size in (("a.png", (4, 5)), ("sub/b.png", (3, 2)), ("c.png", (2, 2))):
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        pixels[name] = rng.randint(0, 256, size + (3,)).astype(np.uint8)
        image.fromarray(pixels[name]).save(path)
    return tmp_path, pixels


def test_image_list_dataset_from_a_lst_file(image_folder):
    root, pixels = image_folder
    lst = root / "list.lst"
    lst.write_text("0\t1.5\ta.png\n7\t2\t3\tsub/b.png\n\n")
    ds = ImageListDataset(root=str(root), imglist=str(lst))
    assert len(ds) == 2
    img, label = ds[0]
    np.testing.assert_array_equal(img.asnumpy(), pixels["a.png"])
    assert label == 1.5 and isinstance(label, float)
    img, label = ds[1]
    np.testing.assert_array_equal(img.asnumpy(), pixels["sub/b.png"])
    assert label.dtype == np.float32 and label.tolist() == [2.0, 3.0]
    gray, _ = ImageListDataset(root=str(root), imglist=str(lst), flag=0)[0]
    assert gray.shape == (4, 5, 1)
    same_labels = ImageListDataset(str(root), [[1, "a.png"], [2, "sub/b.png"]])
    crops = DataLoader(same_labels.transform_first(lambda x: x[:2, :2].astype("float32")), batch_size=2)
    images, labels = next(iter(crops))
    assert images.shape == (2, 2, 2, 3) and labels.asnumpy().tolist() == [1.0, 2.0]


def test_image_list_dataset_from_a_list(image_folder):
    root, pixels = image_folder
    ds = ImageListDataset(str(root), [[0, "c.png"], [[1, 2], "a.png"], [3, 4, 5, "sub/b.png"]])
    assert [label if isinstance(label, float) else label.tolist() for _, label in ds] == [0.0, [1, 2], [3, 4, 5]]
    np.testing.assert_array_equal(ds[0][0].asnumpy(), pixels["c.png"])


def test_image_list_dataset_errors_name_the_item(image_folder, tmp_path):
    root, _ = image_folder
    ds = ImageListDataset(str(root), [[1, "missing.png"]])
    with pytest.raises(MXNetError, match="item 0 .*missing.png"):
        ds[0]
    bad = tmp_path / "bad.lst"
    bad.write_text("0\ta.png\n")
    with pytest.raises(MXNetError, match="bad.lst line 1: expected index<TAB>label"):
        ImageListDataset(str(root), str(bad))
    bad.write_text("0\tone\ta.png\n")
    with pytest.raises(MXNetError, match="line 1: the label"):
        ImageListDataset(str(root), str(bad))
    with pytest.raises(MXNetError, match=r"imglist\[0\].*expected \[label\(s\)..., path\]"):
        ImageListDataset(str(root), ["a.png"])
    with pytest.raises(MXNetError, match="must be the path of a .lst file or a list"):
        ImageListDataset(str(root))
