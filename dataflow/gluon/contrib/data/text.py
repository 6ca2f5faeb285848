"""WikiText-2 and WikiText-103 language-modelling datasets, as MXNet's `gluon.contrib.data.text`.

The files are read from `root` when present with MXNet's SHA-1; otherwise the archive is downloaded from MXNet's
repository with `gluon.utils.download` (which, without a network, raises an error naming the URL and the file).
Without a `vocab`, the vocabulary is `contrib.text.vocab.Vocabulary(counts, reserved_tokens=['<eos>'])`:
'<unk>' at 0, '<eos>' at 1, then the tokens by falling frequency, ties alphabetically.
"""
import os
import shutil
import zipfile

import numpy as np

from .... import base, ndarray as nd
from ....contrib import text
from ...data import dataset
from ...utils import _get_repo_file_url, check_sha1, download
from . import _constants as C

__all__ = ["WikiText2", "WikiText103"]


class _LanguageModelDataset(dataset.Dataset):
    def __init__(self, root, namespace, vocabulary):
        self._vocab = vocabulary
        self._counter = None
        self._namespace = namespace
        self._root = os.path.expanduser(root)
        if not os.path.isdir(self._root):
            os.makedirs(self._root)
        self._data = self._label = None
        self._get_data()

    @property
    def vocabulary(self):
        return self._vocab

    @property
    def frequencies(self):
        return self._counter

    def _build_vocab(self, content):
        if not self._counter:
            self._counter = text.utils.count_tokens_from_str(content)
        if not self._vocab:
            self._vocab = text.vocab.Vocabulary(counter=self.frequencies, reserved_tokens=[C.EOS_TOKEN])


class _WikiText(_LanguageModelDataset):
    def _read_batch(self, filename):
        """(data, label) int32 token indices of the file's lines, each line ended with '<eos>'; label is data
        shifted by one."""
        with open(filename, "r", encoding="utf8") as fin:
            content = fin.read()
        self._build_vocab(content)
        lines = [line.split() + [C.EOS_TOKEN] for line in content.splitlines() if line.split()]
        indices = self.vocabulary.to_indices([token for line in lines for token in line])
        return np.array(indices[:-1], dtype=np.int32), np.array(indices[1:], dtype=np.int32)

    def _get_data(self):
        archive_file_name, archive_hash = self._archive_file
        data_file_name, data_hash = self._data_file[self._segment]
        path = os.path.join(self._root, data_file_name)
        if not os.path.exists(path) or not check_sha1(path, data_hash):
            downloaded = download(_get_repo_file_url("gluon/dataset/" + self._namespace, archive_file_name),
                                  path=self._root, sha1_hash=archive_hash)
            with zipfile.ZipFile(downloaded, "r") as archive:
                for member in archive.namelist():
                    filename = os.path.basename(member)
                    if filename:
                        with archive.open(member) as source, open(os.path.join(self._root, filename), "wb") as out:
                            shutil.copyfileobj(source, out)
        data, label = self._read_batch(path)
        # whole samples only: the tail shorter than seq_len is dropped (MXNet 1.9.1, issue 18886)
        usable = len(data) // self._seq_len * self._seq_len
        self._data = nd.array(data[:usable], dtype=data.dtype).reshape((-1, self._seq_len))
        self._label = nd.array(label[:usable], dtype=label.dtype).reshape((-1, self._seq_len))

    def __getitem__(self, idx):
        return self._data[idx], self._label[idx]

    def __len__(self):
        return len(self._label)


class WikiText2(_WikiText):
    """WikiText-2 (Salesforce research, CC BY-SA): samples of `seq_len` token indices and the next tokens as
    labels, from segment 'train', 'validation' or 'test'."""

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "wikitext-2"), segment="train", vocab=None,
                 seq_len=35):
        self._archive_file = ("wikitext-2-v1.zip", "3c914d17d80b1459be871a5039ac23e752a53cbe")
        self._data_file = {"train": ("wiki.train.tokens", "863f29c46ef9d167fff4940ec821195882fe29d1"),
                           "validation": ("wiki.valid.tokens", "0418625c8b4da6e4b5c7a0b9e78d4ae8f7ee5422"),
                           "test": ("wiki.test.tokens", "c7b8ce0aa086fb34dab808c5c49224211eb2b172")}
        self._segment = segment
        self._seq_len = seq_len
        super().__init__(root, "wikitext-2", vocab)


class WikiText103(_WikiText):
    """WikiText-103 (Salesforce research, CC BY-SA), as WikiText2."""

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "wikitext-103"), segment="train", vocab=None,
                 seq_len=35):
        self._archive_file = ("wikitext-103-v1.zip", "0aec09a7537b58d4bb65362fee27650eeaba625a")
        self._data_file = {"train": ("wiki.train.tokens", "b7497e2dfe77e72cfef5e3dbc61b7b53712ac211"),
                           "validation": ("wiki.valid.tokens", "c326ac59dc587676d58c422eb8a03e119582f92b"),
                           "test": ("wiki.test.tokens", "8a5befc548865cec54ed4273cf87dbbad60d1e47")}
        self._segment = segment
        self._seq_len = seq_len
        super().__init__(root, "wikitext-103", vocab)
