"""CLI commands of the triage subsystem: `earful triage`, `earful train`, `earful bench quality`.

Plain typer-compatible functions; earful.cli.main registers them.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import typer

BATCH_LINES = 256
DEFAULT_DATA_DIR = Path("../shared/data")
# Path-valued options live at module level (typer reads them as defaults; ruff B008).
_DATA_DIR_OPTION: Path = typer.Option(
    DEFAULT_DATA_DIR, "--data-dir", help="labeled data (relative: to cwd, then to the repo)"
)
_OUT_OPTION: Path | None = typer.Option(
    None, "--out", help="where to write weights (default: the committed ones)"
)
_CORRECTIONS_OPTION: Path | None = typer.Option(
    None,
    "--with-corrections",
    help="JSONL of {text, field, value}: fold an organization's corrections into fast weights",
)


def _parse(line: str) -> tuple[Any, str | None, str | None]:
    """Return (id, text, error) for one input line."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return None, None, f"invalid JSON: {str(exc)[:200]}"
    if not isinstance(obj, dict):
        return None, None, 'each line must be a JSON object with "id" and "text"'
    ident = obj.get("id")
    if "text" not in obj:
        return ident, None, 'missing "text"'
    text = obj["text"]
    if not isinstance(text, str):
        return ident, None, '"text" must be a string'
    return ident, text, None


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        if not line.strip():
            continue  # blank lines (e.g. a trailing newline) are not inputs
        chunk.append(line)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_triage(model: str | None, lines: Iterable[str], out: TextIO) -> int:
    """Label JSON lines from `lines` onto `out`; return how many lines had errors."""
    from earful.triage import load_triager

    triager = load_triager(model)
    errors = 0
    for chunk in _chunks(lines, BATCH_LINES):
        parsed = [_parse(line) for line in chunk]
        texts = [t for _, t, e in parsed if e is None and t is not None]
        try:
            labels = iter(triager.label(texts))
        except Exception as exc:  # a model failure must not lose the batch silently
            labels = iter([])
            parsed = [(i, None, f"triage failed: {exc}") for i, _, _ in parsed]
        for ident, _text, err in parsed:
            if err is not None:
                errors += 1
                out.write(json.dumps({"id": ident, "error": err}) + "\n")
            else:
                out.write(json.dumps({"id": ident, **next(labels).to_dict()}) + "\n")
        out.flush()
    return errors


def triage(
    model: str | None = typer.Option(
        None, "--model", "-m", help="fast or best (default: best when its weights load)"
    ),
) -> None:
    """Label JSON lines {"id", "text"} from stdin; one JSON line of labels per input on stdout."""
    from earful.triage import MODEL_NAMES

    if model is not None and model not in MODEL_NAMES:
        raise typer.BadParameter(
            f"unknown model {model!r}; choose fast or best", param_hint="--model"
        )
    # Undecodable bytes become U+FFFD instead of ending the run on a UnicodeDecodeError.
    buffer = getattr(sys.stdin, "buffer", None)
    lines = io.TextIOWrapper(buffer, encoding="utf-8", errors="replace") if buffer else sys.stdin
    run_triage(model, lines, sys.stdout)


def train(
    model: str = typer.Option("fast", "--model", "-m", help="fast or best"),
    data_dir: Path = _DATA_DIR_OPTION,
    out: Path | None = _OUT_OPTION,
    epochs: float | None = typer.Option(None, "--epochs", help="best only: fine-tuning epochs"),
    threads: int = typer.Option(1, "--threads", help="best only: torch threads"),
    distill: bool = typer.Option(
        True, "--distill/--no-distill", help="fast only: also learn from best's labels"
    ),
    with_corrections: Path | None = _CORRECTIONS_OPTION,
    org: str | None = typer.Option(
        None, "--org", help="retrain this organization's model on its team's stored corrections"
    ),
) -> None:
    """Train triage weights from ../shared/data, or fold an organization's corrections in."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if model not in ("fast", "best"):
        raise typer.BadParameter(
            f"unknown model {model!r}; choose fast or best", param_hint="--model"
        )
    if org is not None:
        _retrain_organization(org)
        return
    if with_corrections is not None:
        _train_corrections(with_corrections, out)
        return
    from earful.triage.training import data

    try:
        root = data.resolve_data_dir(data_dir)
    except data.DataMissingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if model == "fast":
        from earful.triage.models import FAST_FILE, WEIGHTS_DIR
        from earful.triage.training import fast

        target = out or WEIGHTS_DIR / FAST_FILE
        fast.train(root, target, teacher=fast.default_teacher() if distill else None)
        typer.echo(f"wrote {target}")
    else:
        from earful.triage.training import best

        kw: dict[str, Any] = {} if epochs is None else {"epochs": epochs}
        try:
            typer.echo(f"wrote {best.train(root, out, threads=threads, **kw)}")
        except best.TrainExtraMissingError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc


def _retrain_organization(slug: str) -> None:
    from earful.cli.main import setup_django

    setup_django(migrate=True)
    from earful.errors import DomainError
    from earful.inbox.retraining import retrain_organization
    from earful.org.models import Organization

    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        typer.echo(f"error: no organization {slug!r}", err=True)
        raise typer.Exit(2)
    try:
        result = retrain_organization(organization)
    except DomainError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"wrote {result.path} ({result.base} + {result.corrections} corrections, "
        f"{result.skipped} skipped); ingest now labels {slug}'s messages with it"
    )


def _train_corrections(path: Path, out: Path | None) -> None:
    from earful.triage.corrections import train_with_corrections

    if out is None:
        typer.echo(
            "error: --with-corrections needs --out (the organization's weights file)", err=True
        )
        raise typer.Exit(2)
    if not path.is_file():
        typer.echo(f"error: corrections file not found: {path}", err=True)
        raise typer.Exit(2)
    rows: list[tuple[str, str, object]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            rows.append((str(obj["text"]), str(obj["field"]), obj["value"]))
        except (ValueError, KeyError, TypeError) as exc:
            typer.echo(f"error: {path}:{n}: expected {{text, field, value}} ({exc})", err=True)
            raise typer.Exit(2) from exc
    base: str | Path = out if out.is_file() else "fast"
    heads = train_with_corrections(base, rows)
    heads.save(out)
    typer.echo(
        f"wrote {out} ({heads.meta['corrections']} corrections used, "
        f"{heads.meta['corrections_skipped']} skipped)"
    )


def bench_quality(
    json_output: bool = typer.Option(False, "--json", help="print one JSON object"),
    models: str = typer.Option("fast,best", "--models", help="comma-separated models to measure"),
    data_dir: Path = _DATA_DIR_OPTION,
) -> None:
    """Measure each triage model on the public benchmarks, next to the published scores."""
    from earful.triage.training import bench, data

    try:
        root = data.resolve_data_dir(data_dir)
    except data.DataMissingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    names = [m.strip() for m in models.split(",") if m.strip()]
    result = bench.run(root, names, progress=None if json_output else typer.echo)
    if json_output:
        typer.echo(json.dumps(result))
    else:
        bench.print_table(result)
