"""Commands of the feedback domain: honest-answer requests from a file, the similarity bench."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

DEFAULT_DATA_DIR = Path("../shared/data")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the feedback commands to the app and its benchmarks to `earful bench`."""
    app.command("feedback-requests", help=feedback_requests.__doc__)(feedback_requests)
    bench.command("ideas", help=bench_ideas.__doc__)(bench_ideas)


def feedback_requests(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV of visits or orders: email, and optionally name and reference.",
            exists=True,
            dir_okay=False,
        ),
    ],
    org: Annotated[str, typer.Option(help="Organization slug.")] = "default",
) -> None:
    """Ask each visit's customer one open question (rate limits and unsubscribes honoured)."""
    from earful.cli.main import setup_django

    setup_django(migrate=True)
    from django.utils import timezone

    from earful.errors import DomainError
    from earful.feedback.requests import request_for_visits, visits_from_csv
    from earful.org.models import Organization

    organization = Organization.objects.filter(slug=org).first()
    if organization is None:
        typer.echo(f"error: no organization {org!r}", err=True)
        raise typer.Exit(2)
    sent = skipped = 0
    now = timezone.now()
    try:
        for number, visit in visits_from_csv(path):
            outcome = request_for_visits(organization, [visit], now=now)[0]
            if outcome.request is None:
                skipped += 1
                typer.echo(f"line {number}: not sent: {outcome.skipped}", err=True)
            else:
                sent += 1
    except (DomainError, UnicodeDecodeError, csv.Error) as exc:
        typer.echo(f"error: {path}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{sent} sent, {skipped} not sent")


def bench_ideas(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: Annotated[
        Path, typer.Option(help="The public data (banking77, suggestions, twcs).")
    ] = DEFAULT_DATA_DIR,
    refit: Annotated[
        bool, typer.Option(help="First refit the common directions removed from embeddings.")
    ] = False,
) -> None:
    """Similar-idea suggestions on banking77: precision@1 and recall@5 of duplicates."""
    from earful.bench.similar_ideas import fit_common_directions, run

    if not (data_dir / "banking77" / "test.csv").is_file():
        typer.echo(f"error: needs the public data in {data_dir} (banking77)", err=True)
        raise typer.Exit(2)
    if refit:
        typer.echo(f"wrote {fit_common_directions(data_dir)}", err=True)
    result = run(data_dir)
    if json_output:
        typer.echo(json.dumps(result))
        return
    table = Table(
        title=f"similar ideas: {result['queries']} typed ideas against {result['ideas']} "
        f"existing (banking77 test, seed {result['seed']})"
    )
    for column in (
        "method",
        "precision@1",
        "recall@5",
        "MRR",
        "right one offered",
        "offered, none match",
    ):
        table.add_column(column)
    for name, score in result["test"].items():
        table.add_row(
            name,
            f"{score['precision_at_1']:.3f}",
            f"{score['recall_at_5']:.3f}",
            f"{score['mrr']:.3f}",
            ""
            if score["right_idea_offered_first"] is None
            else f"{score['right_idea_offered_first']:.3f}",
            ""
            if score["offered_when_none_match"] is None
            else f"{score['offered_when_none_match']:.3f}",
        )
    console = Console()
    console.print(table)
    console.print(
        f"blend weight chosen on train: {result['chosen_weight']} "
        f"(precision@1 by weight: {result['train_sweep_precision_at_1']}); "
        f"off-topic suggestions offered an idea: {result['off_topic_offered']}; "
        f"scoring took {result['test_scoring_seconds']} s"
    )
