"""meshlake's DuckDB extension: position deletes applied as one row mask inside the scan (`masks`, `build`)."""
