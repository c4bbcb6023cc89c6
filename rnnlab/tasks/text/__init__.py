"""Modelling text: character- or word-level language models, sampled and read from the inside.

Modules: :mod:`.prepared` (split by position, tokenizer fitted on the training part; torch-free),
:mod:`.ngram` (unigram and Witten-Bell n-gram baselines; torch-free), :mod:`.objective` (truncated
BPTT over a stream, padded and packed line items, scoring), :mod:`.sample` (temperature / top-k
sampling), :mod:`.run` (the run type), :mod:`.store` (its run files), :mod:`.task` (the Task object).
"""
