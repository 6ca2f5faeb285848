"""`mx.rnn.io`: turning tokenised sentences into integer ids, and a bucketing iterator for language models."""
import bisect
import random

import numpy as np

from .. import ndarray
from ..io import DataBatch, DataDesc, DataIter

__all__ = ["encode_sentences", "BucketSentenceIter"]


def encode_sentences(sentences, vocab=None, invalid_label=-1, invalid_key="\n", start_label=0, unknown_token=None):
    """Each sentence (a list of tokens) as a list of ids, and the vocabulary (token -> id).

    Without `vocab` one is built: `invalid_key` maps to `invalid_label` and new tokens get ids from `start_label`
    on, skipping `invalid_label`. With a given `vocab`, an unknown token is an error unless `unknown_token` is set,
    in which case it is added as `unknown_token` (and every unknown token maps to it)."""
    next_id = start_label
    building = vocab is None
    if building:
        vocab = {invalid_key: invalid_label}
    encoded = []
    for sentence in sentences:
        ids = []
        for token in sentence:
            if token not in vocab:
                if not (building or unknown_token):
                    raise KeyError("Unknown token %s" % token)
                if next_id == invalid_label:
                    next_id += 1
                if unknown_token:
                    token = unknown_token
                vocab[token] = next_id
                next_id += 1
            ids.append(vocab[token])
        encoded.append(ids)
    return encoded, vocab


class BucketSentenceIter(DataIter):
    """Batches of encoded sentences, each padded with `invalid_label` to the smallest bucket length that holds
    it; the label is the sentence shifted left by one token. Every batch comes from one bucket and carries it as
    `bucket_key`; `provide_data` describes the largest bucket (`default_bucket_key`).

    `buckets` defaults to every sentence length that at least `batch_size` sentences have; longer sentences than
    the largest bucket are dropped. `layout` 'NT' gives (batch, length) arrays, 'TN' (length, batch). `reset()`
    shuffles the batches (Python's `random`) and each bucket's sentences (numpy's global generator)."""

    def __init__(self, sentences, batch_size, buckets=None, invalid_label=-1, data_name="data",
                 label_name="softmax_label", dtype="float32", layout="NT"):
        super().__init__()
        if layout not in ("NT", "TN"):
            raise ValueError("Invalid layout %s: Must by NT (batch major) or TN (time major)" % layout)
        if not buckets:
            counts = np.bincount([len(s) for s in sentences])
            buckets = [length for length, n in enumerate(counts) if n >= batch_size]
        buckets = sorted(buckets)
        rows = [[] for _ in buckets]
        discarded = 0
        for sentence in sentences:
            bucket = bisect.bisect_left(buckets, len(sentence))
            if bucket == len(buckets):
                discarded += 1
                continue
            row = np.full((buckets[bucket],), invalid_label, dtype=dtype)
            row[:len(sentence)] = sentence
            rows[bucket].append(row)
        self.buckets = [length for length, bucket_rows in zip(buckets, rows) if bucket_rows]
        self.data = [np.asarray(bucket_rows, dtype=dtype) for bucket_rows in rows if bucket_rows]
        print("WARNING: discarded %d sentences longer than the largest bucket." % discarded)
        if not self.buckets:
            raise ValueError("BucketSentenceIter: no sentence fits a bucket (buckets %s)" % (buckets,))

        self.batch_size = batch_size
        self.data_name = data_name
        self.label_name = label_name
        self.dtype = dtype
        self.invalid_label = invalid_label
        self.nddata = []
        self.ndlabel = []
        self.layout = layout
        self.major_axis = layout.find("N")
        self.default_bucket_key = max(self.buckets)
        shape = self._shape(self.default_bucket_key)
        self.provide_data = [DataDesc(name=data_name, shape=shape, layout=layout)]
        self.provide_label = [DataDesc(name=label_name, shape=shape, layout=layout)]
        self.idx = [(i, start) for i, bucket in enumerate(self.data)
                    for start in range(0, len(bucket) - batch_size + 1, batch_size)]
        self.curr_idx = 0
        self.reset()

    def _shape(self, length):
        return (self.batch_size, length) if self.major_axis == 0 else (length, self.batch_size)

    def reset(self):
        """Rewind, shuffling the batch order and the sentences within each bucket."""
        self.curr_idx = 0
        random.shuffle(self.idx)
        for bucket in self.data:
            np.random.shuffle(bucket)
        self.nddata = []
        self.ndlabel = []
        for bucket in self.data:
            label = np.empty_like(bucket)
            label[:, :-1] = bucket[:, 1:]
            label[:, -1] = self.invalid_label
            self.nddata.append(ndarray.array(bucket, dtype=self.dtype))
            self.ndlabel.append(ndarray.array(label, dtype=self.dtype))

    def next(self):
        """The next batch (a DataBatch with `bucket_key`), or StopIteration."""
        if self.curr_idx == len(self.idx):
            raise StopIteration
        i, start = self.idx[self.curr_idx]
        self.curr_idx += 1
        data = self.nddata[i][start:start + self.batch_size]
        label = self.ndlabel[i][start:start + self.batch_size]
        if self.major_axis == 1:
            data, label = data.T, label.T
        return DataBatch([data], [label], pad=0, bucket_key=self.buckets[i],
                         provide_data=[DataDesc(name=self.data_name, shape=data.shape, layout=self.layout)],
                         provide_label=[DataDesc(name=self.label_name, shape=label.shape, layout=self.layout)])
