"""Traces: record a model's rollouts, filter the episodes by quality, distill the kept ones.

Storage is Parquet (pyarrow) in chunk files, each complete episodes only and written atomically:
Parquet is the columnar format every data tool reads (pandas, polars, DuckDB, Spark), compresses
observations well (zstd) and can be appended chunk by chunk without rewriting anything. Filtering
runs in DuckDB over those files: SQL predicates (``--where``), out-of-core joins with bounded
memory and multi-threaded scans, without loading the set into Python.
"""
