"""Access control: who the caller is, the mesh policy stored in the lake, and what each principal may do.

Owns: resolving the caller's identity (`identity`), the mesh-wide policy document kept in the lake's system
namespace (`policy`), and the pure decision of a principal's rights on a port (`rights`); the access checks
the facades run before every write (`guard`) and `explain` (what a principal may do, and how far that holds);
applying a decision to what is read: `masks` (a decision resolved on one relation, and each mask on a plain
value), `mask_sql` (DuckDB SQL), `mask_polars` (Polars expressions) and `enforce` (a principal's reads of a
port, the `meshlake.query.policy.ReadPolicy` the read paths apply, and quality samples as shown and recorded);
the caller's read rights as the DuckDB views ask them (`mesh_reads`), and who reads meshlake's own tables
(`system`);
the storage level: object-store policies per principal from the grants (`storage_policy`, over the table
locations of `storage_layout`, rendered by `storage_formats`, with keys from `storage_credentials`) and the
probes of each principal's keys that let `explain` report it (`storage_verify`).

May import: errors, catalog, contract, query, write, quality (never maintenance, pipelines, the facades or cli;
the facades hand it what it needs).
"""
