"""``tagora models list|train|show|score``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from tagora.core.cli_support import cli_stores, console, print_json, print_table

models_app = typer.Typer(
    help="Customer value and prediction models: train, inspect, score.", no_args_is_help=True
)
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Horizon = Annotated[int, typer.Option("--horizon-days", min=1, max=3650, help="Days after the cutoff.")]


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date like 2011-06-30", param_hint="--cutoff") from exc


@models_app.command("list")
def list_runs(name: Annotated[str | None, typer.Argument()] = None, json: Json = False) -> None:
    """Every recorded run, newest version first."""
    from tagora.scoring import logic

    with cli_stores() as stores:
        runs = logic.list_runs(stores, name)
    if json:
        print_json(runs)
    else:
        print_table(f"{len(runs)} model runs", [
            {"name": r.name, "version": r.version, "data": f"{r.data_start} .. {r.data_end}",
             "horizon": r.horizon_days, "trained_at": r.trained_at.isoformat(timespec="seconds")}
            for r in runs
        ])  # fmt: skip


@models_app.command("train")
def train(
    name: Annotated[str, typer.Argument(help="churn, clv, rfm, clusters or propensity")],
    cutoff: Annotated[str | None, typer.Option(help="Last day of data (default: latest order day).")] = None,
    horizon_days: Horizon = 90,
    target: Annotated[str | None, typer.Option(help="propensity: a product category, e.g. 服装.")] = None,
    json: Json = False,
) -> None:
    """Train on data up to the cutoff, backtest on the last horizon, record the run."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.scoring import logic

    with cli_stores() as stores:
        run = logic.train_model(stores, CLI_OPERATOR, name, _day(cutoff), horizon_days, target)
    print_json(run) if json else console.print(f"trained {run.name} v{run.version} on {run.data_end}")


@models_app.command("evaluate")
def evaluate(
    cutoff: Annotated[str, typer.Option(help="Last day of the calibration period, e.g. 2011-06-30.")],
    horizon_days: Horizon = 90,
    json: Json = False,
) -> None:
    """Time split: train up to the cutoff, compare with the horizon after it, against the baselines."""
    from tagora.scoring import logic

    day = _day(cutoff)
    assert day is not None
    with cli_stores() as stores:
        report = logic.evaluate_models(stores, day, horizon_days)
    if json:
        print_json(report)
        return
    end = day + timedelta(days=horizon_days)
    print_table(f"churn within {horizon_days} days after {day} (evaluated up to {end})", [
        {"scorer": m.scorer, "AUC": f"{m.auc:.3f}", "PR-AUC": f"{m.pr_auc:.3f}",
         "churn rate": f"{m.base_rate:.3f}"}
        for m in report.churn
    ])  # fmt: skip
    print_table("purchase days per customer: predicted vs actual", [
        {"predictor": m.predictor, "MAE": f"{m.mae:.3f}", "Spearman": f"{m.spearman:.3f}",
         "predicted": f"{m.predicted_total:.0f}", "actual": f"{m.actual_total:.0f}"}
        for m in report.purchases
    ])  # fmt: skip
    print_table("time to the next purchase: concordance", [
        {"scorer": m.scorer, "C-index": f"{m.concordance:.3f}"} for m in report.survival
    ])  # fmt: skip


@models_app.command("show")
def show(name: str, version: Annotated[int | None, typer.Option()] = None, json: Json = False) -> None:
    """A run's parameters, data window and metrics (the latest version by default)."""
    from tagora.scoring import logic

    with cli_stores() as stores:
        run = logic.show_run(stores, name, version)
    if json:
        print_json(run)
    else:
        console.print(f"{run.name} v{run.version}: data {run.data_start} .. {run.data_end}")
        print_json(run.metrics)


@models_app.command("score")
def score(
    cutoff: Annotated[str, typer.Option(help="Last day of data to read, e.g. 2011-06-30.")],
    output: Annotated[Path, typer.Option(help="A .csv, .xlsx or .jsonl file.")],
    horizon_days: Horizon = 90,
    json: Json = False,
) -> None:
    """One row per customer: churn probability, expected purchases, P(alive), CLV, RFM segment."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.scoring import logic

    day = _day(cutoff)
    assert day is not None
    with cli_stores() as stores:
        report = logic.score_customers(stores, CLI_OPERATOR, day, horizon_days, output)
    if json:
        print_json(report)
    else:
        console.print(f"scored {report.customers:,} customers as of {day} -> {output}")


@models_app.command("publish")
def publish(
    cutoff: Annotated[str | None, typer.Option(help="Last day of data (default: latest order day).")] = None,
    json: Json = False,
) -> None:
    """Score every customer and publish the model tags (rfm_segment, churn_warning, clv_12m, ...)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.scoring import logic

    with cli_stores() as stores:
        report = logic.publish_model_tags(stores, CLI_OPERATOR, _day(cutoff))
    if json:
        print_json(report)
    else:
        console.print(
            f"published {report.published_rows:,} model tag values for {report.customers:,} customers"
        )


@models_app.command("propensity")
def propensity(
    target: Annotated[str, typer.Option(help="A product category (and its sub-categories), e.g. 服装.")],
    cutoff: Annotated[str, typer.Option(help="Last day of data to read, e.g. 2011-06-30.")],
    output: Annotated[Path, typer.Option(help="A .csv, .xlsx or .jsonl file.")],
    horizon_days: Horizon = 90,
) -> None:
    """Per customer: probability of buying in the category within the horizon, and its decile."""
    from tagora.scoring import logic

    day = _day(cutoff)
    assert day is not None
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores() as stores:
        rows = logic.export_propensity(stores, CLI_OPERATOR, target, day, horizon_days, output)
    console.print(f"scored {rows:,} customers for {target} as of {day} -> {output}")
