"""The command line of the classify task: ``train --task classify`` and ``predict`` of a classify run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) and v == v else "n/a"


def format_table(metrics: dict[str, Any]) -> str:
    """Rows model + baselines; columns accuracy, balanced accuracy, macro F1, log loss."""
    names = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss")
    heads = ["", "accuracy", "balanced", "macro-F1", "log loss"]
    rows = [[who] + [_fmt(m.get(k)) for k in names] for who, m in metrics["test"].items()]
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in [heads, *rows])


def train(args: argparse.Namespace, cfg: Any, out: Path, run_id: str) -> int:
    from rnnlab.pipeline import load_data, prepare
    from rnnlab.pipeline import train as train_run
    from rnnlab.runs import save_run
    from rnnlab.training import TrainEvent

    err = sys.stderr
    ds = load_data(cfg)
    prep = prepare(ds, cfg)
    c = prep.config
    counts = prep.counts()
    print(f"data: {ds.name} ({len(ds)} sequences of {ds.kind}, {ds.n_classes} classes, lengths "
          f"{int(ds.lengths.min())}-{int(ds.lengths.max())})", file=err)
    for w in prep.warnings:
        print(f"warning: {w}", file=err)
    print(f"split: train {counts['n_train_sequences']}, val {counts['n_val_sequences']}, test "
          f"{counts['n_test_sequences']} sequences; {c.padding}-padding to each batch's longest "
          f"({prep.padding_share():.0%} of the training steps are padding), {counts['n_truncated']} truncated to "
          f"{c.max_steps} steps", file=err)
    print(f"model: {c.cell} hidden {c.hidden_size} x {c.num_layers} layers, pooling {c.pooling}"
          f"{', bidirectional' if c.bidirectional else ''}; epochs <= {c.epochs}, batch {c.batch_size}, "
          f"lr {c.lr:g}, seed {c.seed}", file=err)

    def progress(ev: TrainEvent) -> None:
        if ev.kind == "epoch" and not args.quiet:
            acc = ""
            if ev.val_output is not None:
                y = prep.labels[prep.indices("val")]
                acc = f"  val acc {(ev.val_output.argmax(1) == y).mean():.3f}"
            print(ev.epoch_line(acc), file=err)

    run = train_run(prep, callbacks=[progress])
    run.meta["id"] = run_id
    print("\n".join(run.ending_lines(len(prep.warnings))), file=err)  # how it ended; warnings training added
    print(f"test: {run.metrics['n_test_sequences']} sequences")
    print(format_table(run.metrics))
    print(run.metrics["verdict"][:1].upper() + run.metrics["verdict"][1:] + ".")
    path = save_run(run, out)
    print(f"run saved to {path}")
    return 0


def predict(run: Any, args: argparse.Namespace) -> int:
    """One row per sequence of ``--data``: id, predicted class, probability of every class."""
    import pandas as pd

    from rnnlab.corpora import list_sequence_datasets, load_sequence_csv, load_sequence_dataset

    if args.data in {i.name for i in list_sequence_datasets()}:
        ds = load_sequence_dataset(args.data)
    else:
        ds = load_sequence_csv(args.data, id_col=args.id_col or run.config.id_col,
                               target=args.target or run.config.target or "label",
                               time_col=args.time_col)
    proba = run.predict_proba(run.encode(ds))
    classes = run.classes
    frame = pd.DataFrame({"id": ds.ids, "predicted": [classes[k] for k in proba.argmax(1)],
                          "confidence": proba.max(1)})
    for c, name in enumerate(classes):
        frame[f"p_{name}"] = proba[:, c]
    frame["label"] = [ds.classes[k] for k in ds.labels]
    try:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out, index=False)
    except OSError as exc:
        raise RnnlabError(f"cannot write '{args.out}': {exc.strerror or exc}") from exc
    known = frame["label"].isin(classes)
    acc = f"; accuracy on the labelled ones {(frame['predicted'] == frame['label'])[known].mean():.3f}" \
        if known.any() else ""
    print(f"{len(frame)} sequences written to {args.out}{acc}")
    return 0
