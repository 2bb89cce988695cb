"""meshlake's DuckDB extensions: position deletes applied as one row mask, inside the Parquet scan (`meshlake_scan`,
C++) or in a filter above it (`meshlake_kept`, C); `masks` loads the masks, `build` compiles both."""
