"""``switchboard projections rebuild`` on several cores: the read models shared out between
processes, each rebuilding its share from one reading of the log into a staging schema of its
own and swapping each model in on its own (``projections.machinery.rebuild``).

A rebuild is CPU in Python (the models' handlers), so one process uses one core. Reading and
decoding the log is a small part of it (about a tenth), so each process reading the log for
its share costs little beside what the split saves.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from infrastructure.config import Config
from projections.machinery.rebuild import STAGING_SCHEMA, Progress, rebuild_together

if TYPE_CHECKING:
    from infrastructure.bootstrap import Services

# What each model costs to rebuild, relative to the others (CPU seconds per event, measured
# with figure 3 of the benchmark): how the shares are balanced. A model not listed counts 2.
COSTS = {"events": 3, "reports": 2, "history": 2, "dashboard": 2, "directory": 1, "clients": 1}


def shares(names: Sequence[str], processes: int) -> list[list[str]]:
    """``names`` in at most ``processes`` shares of about equal cost: the costliest model
    first, each into the cheapest share so far. Each share keeps the order of ``names``."""
    count = max(1, min(processes, len(names)))
    loads = [0] * count
    split: list[list[str]] = [[] for _ in range(count)]
    for name in sorted(names, key=lambda n: -COSTS.get(n, 2)):
        k = loads.index(min(loads))
        split[k].append(name)
        loads[k] += COSTS.get(name, 2)
    return [sorted(share, key=list(names).index) for share in split if share]


def rebuild(
    config: Config,
    names: Sequence[str],
    processes: int,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    *,
    container: Services | None = None,
) -> dict[str, int]:
    """Rebuild the read models ``names`` in up to ``processes`` processes; the positions at
    which each was swapped in. One process: in this one, as ``rebuild_together`` does (with
    ``container``, the caller's, when it has one)."""
    split = shares(names, processes)
    if len(split) == 1 and container is not None:
        return _rebuild_with(container, split[0], STAGING_SCHEMA, on_progress)
    if len(split) == 1:
        return rebuild_share(config, split[0], STAGING_SCHEMA, on_progress)
    context = multiprocessing.get_context("spawn")  # a clean interpreter each, no threads
    positions: dict[str, int] = {}
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(max_workers=len(split), mp_context=context) as pool,
    ):
        progress = manager.Queue()
        futures = [
            pool.submit(_rebuild_in_child, config, share, f"{STAGING_SCHEMA}_{k}", progress)
            for k, share in enumerate(split)
        ]
        while not all(future.done() for future in futures):
            _relay(progress, on_progress, timeout=0.5)
        while _relay(progress, on_progress, timeout=0):
            pass
        for future in futures:
            positions.update(future.result())  # raises what a child raised
    return positions


def rebuild_share(
    config: Config,
    names: Sequence[str],
    staging_schema: str,
    on_progress: Callable[[Progress], None] = lambda progress: None,
) -> dict[str, int]:
    """Rebuild some read models together, in this process, staged in ``staging_schema``."""
    from infrastructure.bootstrap import build

    container = build(config, run_projections=False)
    try:
        return _rebuild_with(container, names, staging_schema, on_progress)
    finally:
        container.stop()


def _rebuild_with(
    container: Services,
    names: Sequence[str],
    staging_schema: str,
    on_progress: Callable[[Progress], None],
) -> dict[str, int]:
    staging = container.database.read_store(staging_schema, pool_size=2)
    try:
        models = [container.read_model(name) for name in names]
        return rebuild_together(models, container.app, staging, on_progress=on_progress)
    finally:
        staging.close()


def _rebuild_in_child(
    config: Config, names: list[str], staging_schema: str, progress: Any
) -> dict[str, int]:
    from infrastructure.logs import configure_logging

    configure_logging(config)
    last = names[-1]

    def report(step: Progress) -> None:
        if step.model == last:  # one report per page: the share's last model
            progress.put(step)

    return rebuild_share(config, names, staging_schema, report)


def _relay(progress: Any, on_progress: Callable[[Progress], None], *, timeout: float) -> bool:
    """Hand one child's report to ``on_progress``; False when none came within ``timeout``."""
    try:
        step = progress.get(timeout=timeout) if timeout else progress.get_nowait()
    except queue.Empty:
        return False
    on_progress(step)
    return True
