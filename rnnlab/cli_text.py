"""The text task's commands: ``train --task text`` reporting, and ``python -m rnnlab sample``.

Registered by :func:`rnnlab.cli.build_parser` / called from its ``train`` command. Same contract as
the rest of the CLI: user errors are one ``error: ...`` line and exit status 2, progress on stderr,
results (tables, the sampled text) on stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rnnlab.settings import RunConfig

_COLUMNS = (("bits_per_char", "bits/char"), ("bits_per_word", "bits/word"), ("perplexity", "perplexity"),
            ("cross_entropy", "CE (nats)"), ("accuracy", "top-1"), ("top5_accuracy", "top-5"))


def format_text_metrics(metrics: dict[str, Any]) -> str:
    """Plain-text table of the test scores: model, unigram and n-gram rows."""
    rows = metrics["test"]
    cols = [(k, h) for k, h in _COLUMNS if any(k in r for r in rows.values())]
    heads = ["", *(h for _, h in cols)]
    names = {"ngram": f"{metrics.get('ngram_order', '')}-gram", "unigram": "unigram", "model": "model"}
    lines = [[names.get(who, who), *(f"{r.get(k, float('nan')):.4g}" for k, _ in cols)] for who, r in rows.items()]
    widths = [max(len(r[i]) for r in [heads, *lines]) for i in range(len(heads))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in [heads, *lines])


def train_text(cfg: RunConfig, out: Path, run_id: str, quiet: bool) -> int:
    from rnnlab.pipeline import load_data, prepare, train
    from rnnlab.runs import save_run
    from rnnlab.training import TrainEvent

    err = sys.stderr
    corpus = load_data(cfg)
    prep = prepare(corpus, cfg)
    c = prep.config
    n = prep.counts()
    print(f"data: {corpus.name} ({corpus.kind}, {corpus.n_chars:,} characters); {c.level} level, vocabulary "
          f"{n['vocab_size']:,} (fitted on the training part); tokens train {n['n_train_tokens']:,}, val "
          f"{n['n_val_tokens']:,}, test {n['n_test_tokens']:,}; unknown in test {prep.unknown_rates()['test']:.2%}",
          file=err)
    for w in prep.warnings:
        print(f"warning: {w}", file=err)
    print(f"model: {c.cell} hidden {c.hidden_size} x {c.num_layers} layers, embedding {c.embed_size}; seq_len "
          f"{c.seq_len}, epochs <= {c.epochs}, batch {c.batch_size}, lr {c.lr:g}, seed {c.seed}", file=err)

    def progress(ev: TrainEvent) -> None:
        if ev.kind == "epoch" and not quiet:
            print(ev.epoch_line(), file=err)

    run = train(prep, callbacks=[progress])
    run.meta["id"] = run_id
    print("\n".join(run.ending_lines(len(prep.warnings))), file=err)  # how it ended; warnings training added
    print(f"test text: {run.metrics['test']['model']['n_tokens']:,} next-token predictions")
    print(format_text_metrics(run.metrics))
    print(run.metrics["verdict"])
    path = save_run(run, out)
    print(f"run saved to {path}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from rnnlab.cli_store import resolve_run
    from rnnlab.errors import ConfigError
    from rnnlab.runs import load_run

    run = load_run(resolve_run(args.run))
    if run.task != "text":
        raise ConfigError(f"the run {args.run!r} is a {run.task} run; sample needs a text run (--task text)")
    s = run.sample(args.prime, args.length, args.temperature, args.top_k, args.seed)
    gap = " " if run.tokenizer.level == "word" and args.prime and s.text else ""
    sys.stdout.write(args.prime + gap + s.text + "\n")
    return 0


def add_commands(sub: Any) -> None:
    sp = sub.add_parser("sample", help="generate text with a saved text run",
                        description="Continue a prime with a saved language model (same seed, same text).")
    sp.add_argument("--run", required=True, help="run folder, or a run id of the store (a unique prefix is enough)")
    sp.add_argument("--prime", "--prompt", default="", help="text to continue (default: none)")
    sp.add_argument("--length", type=int, default=300, help="tokens to generate (default: 300)")
    sp.add_argument("--temperature", type=float, default=0.8, help="0: greedy; higher: more varied (default: 0.8)")
    sp.add_argument("--top-k", type=int, default=0, help="draw only from the k most probable tokens (0: all)")
    sp.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    sp.set_defaults(func=cmd_sample)
