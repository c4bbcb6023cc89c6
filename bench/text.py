"""The text task's default run on shakespeare-small: time per epoch, validation bits/char over
time, test bits/char against the unigram and n-gram baselines, a sample, and the Trainer's
overhead against a minimal PyTorch char-LSTM loop on the same batches.

The run uses the app's defaults (``RunConfig.defaults("text")``: char-level LSTM) unless flags
change them. ``--minutes`` stops it after that many minutes (Stop keeps the best weights, as in
the app), so a loaded machine still gets a result; the JSON says how many epochs that was.
The overhead comparison times ``--compare-batches`` TBPTT steps of the Trainer's objective
(loss, backward, clipping, Adam) and of a plain loop written out here, interleaved.

    python -m bench.text [--minutes 5] [--epochs N] [--chars N] [--compare-batches 40]
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

from bench.common import base_parser, setup_threads, write_result


def _minimal_loop(model: Any, batches: list[Any], lr: float, clip: float) -> float:
    """Seconds per step of a plain char-LSTM TBPTT loop (the reference the Trainer is held to)."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hidden = None
    t0 = time.perf_counter()
    for x, y in batches:
        logits, hidden = model(x, hidden)
        hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    return (time.perf_counter() - t0) / max(1, len(batches))


def _trainer_steps(prep: Any, n: int) -> float:
    """Seconds per step of the Trainer on the first ``n`` batches of an epoch (one epoch of n batches)."""
    from rnnlab.models import build_model
    from rnnlab.tasks import get_task
    from rnnlab.training import Trainer

    task = get_task("text")
    obj = task.objective(prep)

    class FirstN:
        def n_batches(self, bs: int) -> int:
            return min(n, obj.n_batches(bs))

        def train_batches(self, bs: int, g: Any) -> Any:
            for i, b in enumerate(obj.train_batches(bs, g)):
                if i >= n:
                    return
                yield b

        def loss(self, model: Any, batch: Any) -> Any:
            return obj.loss(model, batch)

        def validate(self, model: Any) -> Any:
            from rnnlab.training import Validation

            return Validation(float("nan"), float("nan"))

    model = build_model(prep.config, task.model_shape(prep))
    cfg = prep.config.replace(epochs=1, patience=0, lr_schedule="none")
    t0 = time.perf_counter()
    Trainer(cfg).fit(model, FirstN())
    return (time.perf_counter() - t0) / n


def main(argv: Sequence[str] | None = None) -> int:
    p = base_parser(__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=5.0, help="stop training after this many minutes")
    p.add_argument("--epochs", type=int, default=0, help="max epochs (default: the app's default)")
    p.add_argument("--chars", type=int, default=0, help="use only the first N characters (0: all)")
    p.add_argument("--hidden", type=int, default=0, help="hidden size (default: the app's default)")
    p.add_argument("--compare-batches", type=int, default=40, help="steps per arm of the overhead comparison (0: skip)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    threads = setup_threads(args.threads or None)

    import torch

    from rnnlab import pipeline
    from rnnlab.corpora import load_corpus
    from rnnlab.models import build_model
    from rnnlab.settings import RunConfig
    from rnnlab.tasks import get_task
    from rnnlab.training import TrainEvent

    corpus = load_corpus("shakespeare-small")
    if args.chars:
        corpus = dataclasses.replace(corpus, text=corpus.text[:args.chars])
    changes: dict[str, Any] = {}
    if args.epochs:
        changes["epochs"] = args.epochs
    if args.hidden:
        changes["hidden_size"] = args.hidden
    cfg = RunConfig.defaults("text", **changes)
    prep = pipeline.prepare(corpus, cfg)
    stop = threading.Event()
    curve: list[dict[str, float]] = []
    budget = args.minutes * 60

    def on_event(ev: TrainEvent) -> None:
        if ev.kind == "epoch":
            curve.append({"epoch": ev.epoch, "seconds": round(ev.elapsed, 1),
                          "val_bits_per_char": ev.val_loss / math.log(2), "train_bits_per_char": ev.loss / math.log(2)})
            print(f"epoch {ev.epoch}: val {ev.val_loss / math.log(2):.3f} bits/char at {ev.elapsed:.0f}s")
        if ev.elapsed > budget:
            stop.set()

    run = pipeline.train(prep, callbacks=[on_event], stop_event=stop)
    test = run.metrics["test"]
    sample = run.sample("ROMEO:", 300, 0.8, 0, 0)
    epoch_seconds = [h["seconds"] for h in run.history]
    result: dict[str, Any] = {
        "config": {k: getattr(run.config, k) for k in ("cell", "hidden_size", "num_layers", "embed_size", "seq_len",
                                                       "batch_size", "lr", "epochs", "level", "ngram_order")},
        "corpus": {"name": corpus.name, "characters": corpus.n_chars, **prep.counts()},
        "threads": threads, "minutes_budget": args.minutes, "stop_reason": run.train_info["stop_reason"],
        "epochs_run": len(run.history), "best_epoch": run.train_info["best_epoch"],
        "train_seconds": run.train_info["seconds"], "epoch_seconds": epoch_seconds,
        "batches_per_epoch": get_task("text").objective(prep).n_batches(run.config.batch_size),
        "val_curve": curve,
        "test": {who: {k: row[k] for k in ("bits_per_char", "perplexity", "accuracy", "top5_accuracy")}
                 for who, row in test.items()},
        "verdict": run.metrics["verdict"],
        "sample_prime": "ROMEO:", "sample_temperature": 0.8, "sample": sample.text,
    }
    if args.compare_batches:
        obj = get_task("text").objective(prep)
        batches = []
        for i, b in enumerate(obj.train_batches(cfg.batch_size, torch.Generator())):
            if i >= args.compare_batches:
                break
            batches.append(b)
        minimal, trainer = [], []
        for _ in range(2):  # interleaved
            torch.manual_seed(0)
            minimal.append(_minimal_loop(build_model(prep.config, get_task("text").model_shape(prep)), batches,
                                         cfg.lr, cfg.grad_clip))
            trainer.append(_trainer_steps(prep, len(batches)))
        result["overhead"] = {"steps": len(batches), "minimal_s_per_step": min(minimal),
                              "trainer_s_per_step": min(trainer), "ratio": min(trainer) / min(minimal)}
    for who, row in result["test"].items():
        print(f"{who:8s} test bits/char {row['bits_per_char']:.3f}  top-1 {row['accuracy']:.3f}")
    print(run.metrics["verdict"])
    print("ROMEO:" + sample.text)
    write_result("text", result, args.out, started=started)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
