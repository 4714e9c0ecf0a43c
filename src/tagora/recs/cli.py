"""``tagora recs ...``: evaluate, train, show, export and target."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tagora.core.cli_support import cli_stores, console, print_json, print_table

recs_app = typer.Typer(help="Recommendations: evaluate, train, show, export, target.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
COLUMNS = (
    "algorithm",
    "precision",
    "recall",
    "ndcg",
    "map",
    "hit_rate",
    "coverage",
    "diversity",
    "novelty",
    "fit_s",
)


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


@recs_app.command("evaluate")
def evaluate(
    dataset: Annotated[
        str, typer.Option(help="movielens (a MovieLens 100k folder) or store (this store's data)")
    ],
    path: Annotated[Path | None, typer.Option(help="The MovieLens 100k folder (u.data, u.item).")] = None,
    train_until: Annotated[str, typer.Option(help="store: last training day")] = "2011-08-31",
    test_until: Annotated[str, typer.Option(help="store: last test day")] = "2011-09-30",
    k: int = 10,
    json: Json = False,
) -> None:
    """Every algorithm and the tuned hybrid on a held-out split, in one table."""
    from tagora.recs.experiment import movielens_dataset, run, store_dataset
    from tagora.recs.movielens import load_movielens
    from tagora.recs.queries import catalogue, store_behaviours

    if dataset == "movielens":
        if path is None or not (path / "u.data").exists():
            _fail(f"--path must be a MovieLens 100k folder with u.data (got {path})")
        assert path is not None
        report = run(movielens_dataset(*load_movielens(path)), k)
    elif dataset == "store":
        with cli_stores() as stores:
            data = store_dataset(store_behaviours(stores), catalogue(stores), train_until, test_until)
        if data.test.test.empty:
            _fail(f"the store has no purchases after {train_until} up to {test_until} to test on")
        report = run(data, k)
    else:
        _fail(f"--dataset must be movielens or store, not {dataset!r}")
    if json:
        print_json(report)
        return
    rows = [{c: row[c] for c in COLUMNS} for row in report["table"]]
    print_table(f"{report['dataset']}: {report['evaluated_customers']} customers, @{k}", rows)
    console.print(f"hybrid: {report['hybrid']}")


@recs_app.command("train")
def train(
    algorithm: Annotated[
        str, typer.Option(help="hybrid (tuned on the last month) or one algorithm")
    ] = "hybrid",
    json: Json = False,
) -> None:
    """Fit the production model on every purchase and product event and save it for the server."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.recs import logic

    with cli_stores() as stores:
        report = logic.train_model(stores, CLI_OPERATOR, algorithm)
    if json:
        print_json(report)
    else:
        console.print(
            f"trained {report.algorithm} on {report.customers:,} customers x {report.items:,} items "
            f"({report.interactions:,} interactions) in {report.seconds} s -> {report.path}"
        )


@recs_app.command("publish")
def publish(json: Json = False) -> None:
    """Publish each customer's recommended categories as a tag (from the trained model)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.recs import logic

    with cli_stores() as stores:
        written = logic.publish_tags(stores, CLI_OPERATOR)
    if json:
        print_json(written)
    else:
        console.print(", ".join(f"{code}: {rows:,} values" for code, rows in written.items()))


@recs_app.command("show")
def show(customer_key: str, n: int = 10, json: Json = False) -> None:
    """A customer's recommendations with the reason for each."""
    from tagora.recs import facade

    with cli_stores() as stores:
        result = facade.recommend_for(stores, customer_key, n)
    if json:
        print_json(result)
    else:
        print_table(
            f"{customer_key} ({result.algorithm})",
            [
                {"rank": i.rank, "sku": i.sku, "name": i.name, "score": i.score, "reason": i.reason}
                for i in result.items
            ],
        )


@recs_app.command("export")
def export(
    output: Annotated[Path, typer.Option(help="File to write (.csv, .xlsx or .jsonl)")],
    n: int = 10,
    algorithm: Annotated[str | None, typer.Option(help="default: the trained production model")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, xlsx or jsonl (default: from the file name)")
    ] = None,
) -> None:
    """Batch recommendations for campaigns: customer_key, rank, sku, score, reason."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.recs import logic

    by_name = {".jsonl": "jsonl", ".json": "jsonl", ".xlsx": "xlsx"}
    chosen = fmt or by_name.get(output.suffix.lower(), "csv")
    with cli_stores() as stores:
        rows = logic.export_recommendations(stores, CLI_OPERATOR, output, n, algorithm, chosen)
    console.print(f"wrote {rows:,} rows to {output}")


@recs_app.command("targets")
def targets(sku: str, n: int = 100, exclude_bought: bool = False, json: Json = False) -> None:
    """The customers most likely to buy a product."""
    from tagora.recs import facade

    with cli_stores() as stores:
        result = facade.target_customers(stores, sku, n, exclude_bought)
    if json:
        print_json(result)
    else:
        print_table(f"{sku} {result.name}", [c.model_dump() for c in result.customers])
