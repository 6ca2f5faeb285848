"""`Vocabulary`: indices for text tokens, as MXNet's `mx.contrib.text.vocab`.

Index 0 is the unknown token, then the reserved tokens in their order, then the keys of `counter` by falling
frequency (ties in ascending key order) while they are at least `min_freq` and, with `most_freq_count`, at most
that many. Tokens not indexed map to 0.
"""
import collections

UNKNOWN_IDX = 0


class Vocabulary:
    """Indexing of the unknown token, `reserved_tokens` and the keys of `counter` (a collections.Counter).

    >>> import collections
    >>> v = Vocabulary(collections.Counter(['b', 'a', 'b', 'c']), reserved_tokens=['<pad>'])
    >>> v.idx_to_token
    ['<unk>', '<pad>', 'b', 'a', 'c']
    >>> v.to_indices(['a', 'zzz'])
    [3, 0]
    """

    def __init__(self, counter=None, most_freq_count=None, min_freq=1, unknown_token="<unk>", reserved_tokens=None):
        assert min_freq > 0, "`min_freq` must be set to a positive value."
        if reserved_tokens is not None:
            assert unknown_token not in set(reserved_tokens), "`reserved_token` cannot contain `unknown_token`."
            assert len(set(reserved_tokens)) == len(reserved_tokens), \
                "`reserved_tokens` cannot contain duplicate reserved tokens."
        self._index_unknown_and_reserved_tokens(unknown_token, reserved_tokens)
        if counter is not None:
            self._index_counter_keys(counter, unknown_token, reserved_tokens, most_freq_count, min_freq)

    def _index_unknown_and_reserved_tokens(self, unknown_token, reserved_tokens):
        self._unknown_token = unknown_token
        self._idx_to_token = [unknown_token]        # so the unknown token is UNKNOWN_IDX (0)
        self._reserved_tokens = None if reserved_tokens is None else reserved_tokens[:]
        self._idx_to_token.extend(reserved_tokens or [])
        self._token_to_idx = {token: idx for idx, token in enumerate(self._idx_to_token)}

    def _index_counter_keys(self, counter, unknown_token, reserved_tokens, most_freq_count, min_freq):
        assert isinstance(counter, collections.Counter), "`counter` must be an instance of collections.Counter."
        special = set(reserved_tokens or ()) | {unknown_token}
        by_frequency = sorted(sorted(counter.items(), key=lambda item: item[0]), key=lambda item: item[1],
                              reverse=True)
        # the cap counts the special tokens, as MXNet's (a counter key that is special takes no place)
        cap = len(special) + (len(counter) if most_freq_count is None else most_freq_count)
        for token, freq in by_frequency:
            if freq < min_freq or len(self._idx_to_token) == cap:
                break
            if token not in special:
                self._idx_to_token.append(token)
                self._token_to_idx[token] = len(self._idx_to_token) - 1

    def __len__(self):
        return len(self._idx_to_token)

    @property
    def token_to_idx(self):
        """dict: token -> index."""
        return self._token_to_idx

    @property
    def idx_to_token(self):
        """list: the token of each index."""
        return self._idx_to_token

    @property
    def unknown_token(self):
        return self._unknown_token

    @property
    def reserved_tokens(self):
        return self._reserved_tokens

    def to_indices(self, tokens):
        """The index of a token, or the list of indices of a list of tokens (unknown ones: 0)."""
        single = not isinstance(tokens, list)
        indices = [self._token_to_idx.get(token, UNKNOWN_IDX) for token in ([tokens] if single else tokens)]
        return indices[0] if single else indices

    def to_tokens(self, indices):
        """The token of an index, or the list of tokens of a list of indices; ValueError for an invalid one."""
        single = not isinstance(indices, list)
        tokens = []
        for idx in [indices] if single else indices:
            if not isinstance(idx, int) or idx > len(self._idx_to_token) - 1:
                raise ValueError("Token index %d in the provided `indices` is invalid." % idx)
            tokens.append(self._idx_to_token[idx])
        return tokens[0] if single else tokens
