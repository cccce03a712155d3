"""A bag-of-ngrams textcat over words *and* characters (``storewise.TextCatWordCharBOW.v1``).

Chinese word segmentation is ambiguous (jieba may split 不太好 or 性价比 either way), so
character n-grams beside jieba's word n-grams make the sparse linear model far more robust;
it keeps the speed of spaCy's own ``TextCatBOW``. Registered with spaCy when this module is
imported (``pipeline`` imports it before building or loading a pipeline).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy
from spacy.attrs import ORTH
from spacy.ml.models.textcat import resize_and_set_ref, resize_linear_weighted
from spacy.util import registry
from thinc.api import Model, SparseLinear_v2, chain, resizable, softmax_activation, with_cpu

NEG_VALUE = -5000


def _features(model: Model, docs: list[Any], is_train: bool) -> tuple[tuple[Any, Any, Any], Any]:
    ops = model.ops
    word_n, char_n = model.attrs["ngram_size"], model.attrs["char_ngram_size"]
    batch_keys, batch_vals = [], []
    for doc in docs:
        words = ops.asarray(doc.to_array([ORTH]))
        grams = [words] + [ops.ngrams(n, words) for n in range(2, word_n + 1) if len(words) >= n]
        if char_n:
            chars = numpy.frombuffer("".join(doc.text.split()).lower().encode("utf-32-le"), dtype=numpy.uint32).astype(
                "uint64"
            )
            # Offset the code points so that no character collides with a word's hash.
            grams += [chars + numpy.uint64(1 << 40)] + [
                ops.ngrams(n, chars) for n in range(2, char_n + 1) if len(chars) >= n
            ]
        keys, vals = numpy.unique(numpy.concatenate(grams), return_counts=True)
        batch_keys.append(keys)
        batch_vals.append(vals)
    lengths = ops.asarray([len(k) for k in batch_keys], dtype="int32")
    keys = numpy.concatenate(batch_keys) if batch_keys else numpy.zeros((0,), dtype="uint64")
    vals = ops.asarray(numpy.concatenate(batch_vals) if batch_vals else numpy.zeros((0,)), dtype="f")
    return (keys, vals, lengths), lambda dY: []


@registry.architectures("storewise.TextCatWordCharBOW.v1")
def word_char_bow(
    exclusive_classes: bool, ngram_size: int, char_ngram_size: int, length: int = 1 << 20, nO: int | None = None
) -> Model:
    """Softmax over a sparse linear model of word 1..``ngram_size``-grams and character
    1..``char_ngram_size``-grams (0: words only)."""
    length = 2 ** (length - 1).bit_length()
    extract: Model = Model("extract_word_char_ngrams", _features)
    extract.attrs.update(ngram_size=ngram_size, char_ngram_size=char_ngram_size)
    sparse_linear = SparseLinear_v2(nO=nO, length=length)
    fill = {"b": NEG_VALUE, "W": 0}
    resizable_layer = resizable(sparse_linear, resize_layer=partial(resize_linear_weighted, fill_defaults=fill))
    model = with_cpu(chain(extract, resizable_layer), sparse_linear.ops)
    model = chain(model, with_cpu(softmax_activation(), sparse_linear.ops)) if exclusive_classes else model
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse_linear)
    model.attrs["multi_label"] = not exclusive_classes
    model.attrs["resize_output"] = partial(resize_and_set_ref, resizable_layer=resizable_layer)
    return model
