"""Customer and product file imports (CSV, Excel, JSON Lines, Parquet, vCard) with a column mapping."""
