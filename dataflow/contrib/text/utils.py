"""Token counting for `mx.contrib.text`."""
import collections
import re


def count_tokens_from_str(source_str, token_delim=" ", seq_delim="\n", to_lower=False, counter_to_update=None):
    """A `collections.Counter` of the tokens of `source_str`, split at the regular expressions `token_delim` and
    `seq_delim` (empty pieces dropped), lower-cased with `to_lower`; `counter_to_update` is updated and returned
    when given.

    >>> count_tokens_from_str(' Life is great ! \\n life is good . \\n', ' ', '\\n', True)['life']
    2
    """
    tokens = [t for t in re.split(token_delim + "|" + seq_delim, source_str) if t]
    if to_lower:
        tokens = [t.lower() for t in tokens]
    if counter_to_update is None:
        return collections.Counter(tokens)
    counter_to_update.update(tokens)
    return counter_to_update
