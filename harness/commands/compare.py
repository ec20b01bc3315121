"""`harness compare RUN [BASELINE]`: did this run get slower than the baseline?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from harness import paths, settings
from harness.errors import UsageError
from harness.status import ExitStatus

if TYPE_CHECKING:
    from harness.compare.verdict import Thresholds

__all__ = ["check_baseline_arg", "compare_after_run", "register", "thresholds_from"]

BASELINE_HELP = (
    "What to compare with: a run folder or run id; `baseline` (the promoted one); "
    "`history` or `history:N` (the last N good stored runs); `auto` (promoted, else history)."
)
REPORT_DIR_HELP = "Where run folders and the results store (history/) are (default: reports/)."


def thresholds_from(alpha: float, min_effects: list[str] | None) -> Thresholds:
    """The default rule with --alpha and each --min-effect KIND=PERCENT applied."""
    from harness.compare.verdict import Thresholds

    thresholds = Thresholds(alpha=alpha)
    for item in min_effects or []:
        kind, sep, value = item.partition("=")
        try:
            percent = float(value.rstrip("%"))
        except ValueError:
            percent = -1.0
        if not sep or percent < 0:
            raise UsageError(f"--min-effect {item!r}: expected KIND=PERCENT, e.g. p95=5 "
                             f"(kinds: {', '.join(thresholds.rules)})")
        thresholds = thresholds.with_min_effect(kind.strip(), percent / 100.0)
    return thresholds


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        run: Annotated[str, typer.Argument(
            metavar="RUN", help="A run folder, its results.json, a run id, or `latest`.")],
        baseline: Annotated[str, typer.Argument(metavar="[BASELINE]", help=BASELINE_HELP)] = "auto",
        last: Annotated[int, typer.Option(
            "--last", min=1, max=100, help="Runs in the rolling history (history, auto).")] = 5,
        alpha: Annotated[float, typer.Option(
            "--alpha", min=1e-9, max=0.5, help="Significance level of each metric's test.")] = 0.01,
        min_effect: Annotated[list[str] | None, typer.Option(
            "--min-effect", metavar="KIND=PERCENT",
            help="Override a minimum relative effect, e.g. p95=5 (repeatable).")] = None,
        tag: Annotated[list[str] | None, typer.Option(
            "--tag", metavar="KEY=VALUE",
            help="Compare only with stored runs carrying this tag, e.g. env=staging "
            "(repeatable; all must match).")] = None,
        record: Annotated[bool, typer.Option(
            "--record/--no-record", help="Keep RUN in the results store with this verdict.")
        ] = False,
        out: Annotated[Path | None, typer.Option(
            "--out", metavar="DIR", file_okay=False,
            help="Where compare.md/html/json go (default: RUN's folder).")] = None,
        report_dir: Annotated[Path | None, typer.Option(
            "--report-dir", envvar=settings.ENV_REPORT_DIR, metavar="DIR", help=REPORT_DIR_HELP)
        ] = None,
    ) -> int:
        """Compare RUN with a baseline metric by metric (p50/p95/p99 per endpoint group,
        throughput, error rate, CPU per request, pool wait) and write compare.md, compare.html,
        compare.json and compare-junit.xml.

        Exit status: 0 no regression, 1 a metric regressed, 2 bad usage or nothing to compare with.
        """
        from harness.compare.runs import find_run_folder, load_run, require_requests
        from harness.compare.service import compare_run, record_run, store_for
        from harness.compare.terminal import print_comparison
        from harness.config.tags import parse_tags

        reports = (report_dir or paths.reports_dir()).resolve()
        thresholds = thresholds_from(alpha, min_effect)
        tags = parse_tags(tag or [])
        store = store_for(reports)
        candidate = require_requests(load_run(find_run_folder(run, reports)))
        outcome = compare_run(candidate, baseline, reports_dir=reports, store=store, last=last,
                              thresholds=thresholds, out=out.resolve() if out else None,
                              tags=tags)
        console = Console()
        print_comparison(outcome.comparison, console)
        console.print(f"report: {outcome.files.html}")
        if record:
            record_run(candidate, store, outcome.comparison.verdict)
            console.print(f"stored in {store.root}")
        return int(ExitStatus.CHECK_FAILED if outcome.comparison.regressed else ExitStatus.OK)


def check_baseline_arg(baseline: str, report_dir: Path) -> None:
    """Fail before a run starts when --compare names a run that does not exist."""
    from harness.compare.baseline import KEYWORDS
    from harness.compare.runs import find_run_folder

    word = baseline.strip()
    if word in KEYWORDS or word.startswith("history:"):
        return
    find_run_folder(word, report_dir)


def compare_after_run(folder: Path, baseline: str, report_dir: Path, *, last: int,
                      run_exit: int, console: Console) -> int:
    """`harness run --compare`: compare the finished run, keep it in the store, refresh the
    history report. A first run with nothing to compare with starts the history (exit as the
    run's checks say)."""
    from harness.compare.baseline import NoBaseline
    from harness.compare.runs import load_run
    from harness.compare.service import compare_run, record_run, store_for
    from harness.compare.terminal import print_comparison
    from harness.compare.verdict import Thresholds

    store = store_for(report_dir)
    candidate = load_run(folder)
    if candidate.result.totals.requests <= 0:  # an errored or interrupted run: not a PASS
        console.print("compare: no requests were made; nothing to compare, not stored")
        return run_exit
    try:
        outcome = compare_run(candidate, baseline, reports_dir=report_dir, store=store,
                              last=last, thresholds=Thresholds())
    except NoBaseline as exc:
        console.print(f"compare: {exc}; this run starts the history")
        record_run(candidate, store, None)
        return run_exit
    print_comparison(outcome.comparison, console)
    console.print(f"comparison: {outcome.files.html}")
    _, trends = record_run(candidate, store, outcome.comparison.verdict)
    console.print(f"history: {trends.html}")
    if outcome.comparison.regressed:
        return int(ExitStatus.CHECK_FAILED)
    return run_exit
