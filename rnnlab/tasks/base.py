"""What a task is: the room each kind of sequence problem brings to the shared core.

The core (settings, backbone, :class:`~rnnlab.training.Trainer`, run folder, jobs, CLI) is
the same for every task. A task supplies the rest through this protocol: how its data is
loaded and prepared (fitted on the training part only), the model's head and sizes, the
batches and loss the trainer runs, the metrics and baselines of a finished run, the live
preview a front end draws, and the files its run folder holds beside the common ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover - the protocol names torch types; importing it needs no torch
    from torch import nn

    from rnnlab.export import ExportSpec
    from rnnlab.models import ModelShape
    from rnnlab.run import Run
    from rnnlab.settings import ResolvedConfig, RunConfig
    from rnnlab.training import Callback, Objective


@dataclass(frozen=True)
class CatalogueEntry:
    """One built-in dataset as ``python -m rnnlab datasets`` lists it."""

    name: str
    kind: str  # series | text | sequences
    size: str  # in words: "1461 rows, daily (D)", "1.1 M characters", "640 sequences, 9 classes"
    detail: str  # columns, classes, ...
    description: str
    source: str
    licence: str


class PreparedData(Protocol):
    """A task's prepared data: what ``Task.prepare`` returns."""

    config: ResolvedConfig  # every automatic setting resolved
    warnings: list[str]  # plain-words notes about the data and the settings

    def counts(self) -> dict[str, int]:
        """Items per part (e.g. ``n_train_windows``), recorded in the run's train_info."""


class Task(Protocol):
    name: str  # the value of the ``task`` setting
    data_kind: str  # what its datasets are: "series" | "text" | "sequences"
    required_files: tuple[str, ...]  # files its run folder must hold beside the common ones
    optional_files: tuple[str, ...]

    def catalogue(self) -> list[CatalogueEntry]:
        """The task's built-in datasets."""

    def load_data(self, spec: str, config: RunConfig) -> Any:
        """The dataset named by ``spec`` (a built-in name or a file path), checked."""

    def prepare(self, data: Any, config: RunConfig, fitted: Any = None) -> PreparedData:
        """Resolve the settings, split, fit on the training part (or reuse ``fitted``), batch."""

    def model_shape(self, prep: Any) -> ModelShape:
        """The head and the data-derived sizes of the model."""

    # optional: ``initialise(model, prep)`` starts parts of a fresh model from the training data
    # (forecasting: the highway at the linear AR fit); the pipeline calls it when a task has it

    def objective(self, prep: Any) -> Objective:
        """Batches, loss and validation pass for the trainer."""

    def recorder(self, prep: Any, model: nn.Module) -> Callback | None:
        """A callback that records how ``model``'s states evolve during training (None: not recorded)."""

    def make_run(self, prep: Any, model: nn.Module, *, history: list[dict[str, float]], train_info: dict[str, Any],
                 meta: dict[str, Any], recorder: Callback | None) -> Run:
        """The trained run, before evaluation."""

    def evaluate(self, run: Any) -> Run:
        """Fill ``run.metrics`` (model and baselines on the same test items)."""

    def preview(self, prep: Any, model: nn.Module, val_output: Any, epoch: int) -> dict[str, Any] | None:
        """What a live front end draws after an epoch (or mid-epoch when ``val_output`` is None)."""

    def export_spec(self, run: Any) -> ExportSpec:
        """What the exported ONNX / TorchScript graph takes and returns, with check inputs."""

    def describe_data(self, run: Any) -> dict[str, Any]:
        """The dataset's description stored in ``config.json``."""

    def write_files(self, run: Any, folder: Path) -> None:
        """Write the task's own files of a run folder."""

    def read_run(self, folder: Path, doc: dict[str, Any], **common: Any) -> Run:
        """Rebuild a run from its folder; ``common`` holds the shared parts (config, model, history,
        train_info, metrics, meta) already read and checked."""
