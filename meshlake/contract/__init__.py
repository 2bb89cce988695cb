"""The contract: what a data product promises, before any data is written.

Owns the address grammar (`address`), the descriptor and its YAML source with file/line errors
(`descriptor`, `yamlsource`, `durations`), column types (`types`), partitioning (`partitioning`), the
expectation vocabulary a descriptor may use (`expectations`, `expectation_types`, `expectation_args`, `type_names`,
`partition_objects`, `row_conditions`) and what its SQL may say (`expectation_sql`),
the stamps every snapshot carries (`stamps`), the port's Iceberg schema and how it may evolve (`schema`),
where deployed descriptors are kept (`registry`) and `deploy`, which creates or evolves a product's
namespace and tables to match its descriptor.

May import: `meshlake.errors` and `meshlake.catalog`. Knows nothing of ports, reads or writes.
"""
