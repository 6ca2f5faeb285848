"""Token embeddings of `mx.contrib.text`: vectors for the tokens of a vocabulary.

`CustomEmbedding` loads vectors from a text file (one `token v1 v2 ...` line per token); `CompositeEmbedding`
concatenates several embeddings' vectors for the tokens of a `Vocabulary`. Index 0 is the unknown token, whose
vector is the file's own line for it, or `init_unknown_vec(shape=vec_len)` (zeros by default). `register` /
`create` / `get_pretrained_file_names` are MXNet's registry of embedding classes.

`GloVe` and `FastText` (MXNet's downloadable pre-trained vectors) are registered with MXNet's names and
signatures, but dataflow does not carry MXNet's table of their files and SHA-1 hashes: making one raises an
MXNetError saying so; load a downloaded file with `CustomEmbedding` instead.
"""
import logging
import os
import warnings

import numpy as np

from ... import base, ndarray as nd, registry
from ...base import MXNetError
from . import vocab
from .vocab import UNKNOWN_IDX


def register(embedding_cls):
    """Register a `_TokenEmbedding` subclass, so `create(its lower-case name, ...)` makes one."""
    return registry.get_register_func(_TokenEmbedding, "token embedding")(embedding_cls)


def create(embedding_name, **kwargs):
    """An instance of the registered embedding `embedding_name` (case-insensitive), made with `kwargs`."""
    return registry.get_create_func(_TokenEmbedding, "token embedding")(embedding_name, **kwargs)


def get_pretrained_file_names(embedding_name=None):
    """The pre-trained file names of `embedding_name`, or {name: file names} of every registered embedding."""
    embeddings = registry.get_registry(_TokenEmbedding)
    if embedding_name is None:
        return {name: list(cls.pretrained_file_name_sha1.keys()) for name, cls in embeddings.items()}
    if embedding_name not in embeddings:
        raise KeyError("Cannot find `embedding_name` %s. Use `get_pretrained_file_names(embedding_name=None)"
                       ".keys()` to get all the valid embedding names." % embedding_name)
    return list(embeddings[embedding_name].pretrained_file_name_sha1.keys())


class _TokenEmbedding(vocab.Vocabulary):
    """A Vocabulary whose tokens have vectors (`idx_to_vec`, one row per index)."""

    pretrained_file_name_sha1 = {}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._idx_to_vec = None

    @classmethod
    def _check_pretrained_file_names(cls, pretrained_file_name):
        name = cls.__name__.lower()
        if pretrained_file_name not in cls.pretrained_file_name_sha1:
            raise KeyError("Cannot find pretrained file %s for token embedding %s. Valid pretrained files for "
                           "embedding %s: %s" % (pretrained_file_name, name, name,
                                                 ", ".join(cls.pretrained_file_name_sha1.keys())))

    def _load_embedding(self, pretrained_file_path, elem_delim, init_unknown_vec, encoding="utf8"):
        """Index the tokens of the file and keep their vectors; a line for the unknown token gives its vector,
        duplicate tokens and one-number lines (headers) are skipped with a warning, and every vector must have
        the length of the first."""
        pretrained_file_path = os.path.expanduser(pretrained_file_path)
        if not os.path.isfile(pretrained_file_path):
            raise ValueError("`pretrained_file_path` must be a valid path to the pre-trained token embedding file.")
        logging.info("Loading pre-trained token embedding vectors from %s", pretrained_file_path)
        rows, seen, vec_len, unknown_vec = [], set(), None, None
        with open(pretrained_file_path, "r", encoding=encoding) as f:
            for line_num, line in enumerate(f, 1):
                elems = line.rstrip().split(elem_delim)
                assert len(elems) > 1, ("At line %d of the pre-trained text embedding file: the data format of the "
                                        "pre-trained token embedding file %s is unexpected."
                                        % (line_num, pretrained_file_path))
                token, values = elems[0], [float(v) for v in elems[1:]]
                if token == self.unknown_token and unknown_vec is None:
                    unknown_vec = values
                    seen.add(token)
                elif token in seen:
                    warnings.warn("At line %d of the pre-trained token embedding file: the embedding vector for "
                                  "token %s has been loaded and a duplicate embedding for the  same token is seen "
                                  "and skipped." % (line_num, token), stacklevel=3)
                elif len(values) == 1:
                    warnings.warn("At line %d of the pre-trained text embedding file: token %s with 1-dimensional "
                                  "vector %s is likely a header and is skipped." % (line_num, token, values),
                                  stacklevel=3)
                else:
                    if vec_len is None:
                        vec_len = len(values)
                    assert len(values) == vec_len, (
                        "At line %d of the pre-trained token embedding file: the dimension of token %s is %d but "
                        "the dimension of previous tokens is %d. Dimensions of all the tokens must be the same."
                        % (line_num, token, len(values), vec_len))
                    rows.append(values)
                    self._idx_to_token.append(token)
                    self._token_to_idx[token] = len(self._idx_to_token) - 1
                    seen.add(token)
        vectors = np.zeros((len(rows) + 1, vec_len), dtype=np.float32)     # row 0: the unknown token
        vectors[1:] = rows
        self._idx_to_vec = nd.array(vectors)
        self._idx_to_vec[UNKNOWN_IDX] = init_unknown_vec(shape=vec_len) if unknown_vec is None else \
            nd.array(unknown_vec)

    def _index_tokens_from_vocabulary(self, vocabulary):
        self._token_to_idx = vocabulary.token_to_idx.copy() if vocabulary.token_to_idx is not None else None
        self._idx_to_token = vocabulary.idx_to_token[:] if vocabulary.idx_to_token is not None else None
        self._unknown_token = vocabulary.unknown_token
        self._reserved_tokens = vocabulary.reserved_tokens[:] if vocabulary.reserved_tokens is not None else None

    def _set_idx_to_vec_by_embeddings(self, token_embeddings, vocab_len, vocab_idx_to_token):
        """`idx_to_vec` for the tokens `vocab_idx_to_token`: the embeddings' vectors side by side (each one's
        unknown vector for index 0 and for tokens it lacks)."""
        columns = []
        for embed in token_embeddings:
            block = np.empty((vocab_len, embed.vec_len), dtype=np.float32)
            block[0] = embed.idx_to_vec[0].asnumpy()
            if vocab_len > 1:
                block[1:] = embed.get_vecs_by_tokens(list(vocab_idx_to_token[1:])).asnumpy()
            columns.append(block)
        self._idx_to_vec = nd.array(np.concatenate(columns, axis=1))

    def _build_embedding_for_vocabulary(self, vocabulary):
        if vocabulary is not None:
            assert isinstance(vocabulary, vocab.Vocabulary), \
                "The argument `vocabulary` must be an instance of mxnet.contrib.text.vocab.Vocabulary."
            self._set_idx_to_vec_by_embeddings([self], len(vocabulary), vocabulary.idx_to_token)
            self._index_tokens_from_vocabulary(vocabulary)

    @property
    def vec_len(self):
        return self._idx_to_vec.shape[1]

    @property
    def idx_to_vec(self):
        return self._idx_to_vec

    def get_vecs_by_tokens(self, tokens, lower_case_backup=False):
        """The vectors of a token (1-D) or a list of tokens (2-D); unknown tokens get the unknown vector. With
        `lower_case_backup`, a token not found is looked up lower-cased."""
        single = not isinstance(tokens, list)
        tokens = [tokens] if single else tokens
        if lower_case_backup:
            indices = [self.token_to_idx[t] if t in self.token_to_idx else
                       self.token_to_idx.get(t.lower(), UNKNOWN_IDX) for t in tokens]
        else:
            indices = [self.token_to_idx.get(t, UNKNOWN_IDX) for t in tokens]
        vecs = nd.Embedding(nd.array(indices), self.idx_to_vec, input_dim=self.idx_to_vec.shape[0],
                            output_dim=self.idx_to_vec.shape[1])
        return vecs[0] if single else vecs

    def update_token_vectors(self, tokens, new_vectors):
        """Replace the vectors of known `tokens` (one token: a 1-D or 2-D NDArray; several: 2-D, one row each);
        a token not in the vocabulary is a ValueError (name the unknown token itself to change its vector)."""
        assert self.idx_to_vec is not None, "The property `idx_to_vec` has not been properly set."
        if not isinstance(tokens, list) or len(tokens) == 1:
            assert isinstance(new_vectors, nd.NDArray) and len(new_vectors.shape) in (1, 2), \
                "`new_vectors` must be a 1-D or 2-D NDArray if `tokens` is a singleton."
            tokens = tokens if isinstance(tokens, list) else [tokens]
            if len(new_vectors.shape) == 1:
                new_vectors = new_vectors.expand_dims(axis=0)
        else:
            assert isinstance(new_vectors, nd.NDArray) and len(new_vectors.shape) == 2, \
                "`new_vectors` must be a 2-D NDArray if `tokens` is a list of multiple strings."
        assert new_vectors.shape == (len(tokens), self.vec_len), (
            "The length of new_vectors must be equal to the number of tokens and the width ofnew_vectors must be "
            "equal to the dimension of embeddings of the glossary.")
        indices = []
        for token in tokens:
            if token not in self.token_to_idx:
                raise ValueError("Token %s is unknown. To update the embedding vector for an unknown token, please "
                                 "specify it explicitly as the `unknown_token` %s in `tokens`. This is to avoid "
                                 "unintended updates." % (token, self.idx_to_token[UNKNOWN_IDX]))
            indices.append(self.token_to_idx[token])
        vectors = self._idx_to_vec.asnumpy()
        vectors[indices] = new_vectors.asnumpy()
        self._idx_to_vec[:] = vectors


def _no_pretrained_table(cls):
    raise MXNetError("mx.contrib.text.embedding.%s: dataflow does not carry MXNet's table of pre-trained %s files "
                     "and their hashes; load a downloaded file with CustomEmbedding(path, elem_delim=' ')"
                     % (cls.__name__, cls.__name__))


@register
class GloVe(_TokenEmbedding):
    """GloVe vectors (Pennington et al., 2014); not available here (see the module doc)."""

    def __init__(self, pretrained_file_name="glove.840B.300d.txt",
                 embedding_root=os.path.join(base.data_dir(), "embeddings"), init_unknown_vec=nd.zeros,
                 vocabulary=None, **kwargs):
        _no_pretrained_table(GloVe)


@register
class FastText(_TokenEmbedding):
    """fastText vectors (Bojanowski et al., 2017); not available here (see the module doc)."""

    def __init__(self, pretrained_file_name="wiki.simple.vec",
                 embedding_root=os.path.join(base.data_dir(), "embeddings"), init_unknown_vec=nd.zeros,
                 vocabulary=None, **kwargs):
        _no_pretrained_table(FastText)


class CustomEmbedding(_TokenEmbedding):
    """Vectors from a file of lines `token<elem_delim>v1<elem_delim>v2...`; with `vocabulary`, re-indexed to its
    tokens. `kwargs` go to Vocabulary (e.g. `unknown_token`)."""

    def __init__(self, pretrained_file_path, elem_delim=" ", encoding="utf8", init_unknown_vec=nd.zeros,
                 vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        self._load_embedding(pretrained_file_path, elem_delim, init_unknown_vec, encoding)
        if vocabulary is not None:
            self._build_embedding_for_vocabulary(vocabulary)


class CompositeEmbedding(_TokenEmbedding):
    """The tokens of `vocabulary` with the vectors of `token_embeddings` (one or a list) concatenated."""

    def __init__(self, vocabulary, token_embeddings):
        assert isinstance(vocabulary, vocab.Vocabulary), \
            "The argument `vocabulary` must be an instance of mxnet.contrib.text.indexer.Vocabulary."
        token_embeddings = token_embeddings if isinstance(token_embeddings, list) else [token_embeddings]
        for embed in token_embeddings:
            assert isinstance(embed, _TokenEmbedding), (
                "The argument `token_embeddings` must be an instance or a list of instances of "
                "`mxnet.contrib.text.embedding.TextEmbedding` whose embedding vectors will beloaded or "
                "concatenated-then-loaded to map to the indexed tokens.")
        self._index_tokens_from_vocabulary(vocabulary)
        self._set_idx_to_vec_by_embeddings(token_embeddings, len(self), self.idx_to_token)
