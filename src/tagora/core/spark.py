"""The warehouse on Spark: an Ibis PySpark backend that compiles every operation tag definitions use.

Tag definitions are Ibis expressions, so they run on Spark unchanged, except that Ibis 12 has no Spark
rule for ``mode`` (Spark has had the function since 3.4); it is added here. Ties go to the lowest value
(Spark's ``deterministic`` flag), so a rerun gives the same answer. PySpark is optional: only this
module imports it, and only when called.
"""

from __future__ import annotations

from typing import Any

import ibis
import sqlglot.expressions as sge
from ibis.backends import BaseBackend
from ibis.backends.sql.compilers.pyspark import PySparkCompiler


def _visit_mode(self: PySparkCompiler, op: Any, *, arg: sge.Expression, where: Any) -> sge.Expression:
    if where is not None:
        arg = self.if_(where, arg, sge.Null())  # Spark aggregates take no FILTER clause here
    return self.f.mode(arg, sge.true())


def connect(session: Any) -> BaseBackend:
    """An Ibis backend over a running ``SparkSession`` (timestamps in UTC, as Ibis sets them)."""
    PySparkCompiler.visit_Mode = _visit_mode  # Ibis 12 marks it undefined for Spark
    return ibis.pyspark.connect(session)
