"""Distributed engines through meshlake, never around it: Daft (on Ray) and Ray Data read and write ports.

- `reads`: `to_daft` / `to_ray` of a port snapshot: lazy, distributed scans pinned to the snapshot, with the
  schema of that snapshot; a caller whose reads are masked or row-filtered gets meshlake's own masked read
  instead (materialised on the driver), never the files as they are;
- `staging`: what runs on a worker: conform a partition to the port's contract and write it as Parquet data
  files with meshlake's own writer (files named by the write's run, so that an aborted write leaves nothing);
- `driver`: what runs on the driver: gate the staged files and commit one stamped snapshot (or quarantine it),
  or delete every file of the run when the write fails;
- `unique`: the gate's uniqueness checks of a large write (any mode), counted on the engine (a shuffle by key over
  the staged snapshot's files) and handed to the driver's gate as the checks' answers;
- `daft_sink`, `ray_sink`: the engines' sink interfaces (Daft `DataSink`, Ray Data `Datasink`) over the two.

Daft and Ray are optional (`meshlake[daft]`, `meshlake[ray]`) and imported inside functions only.

May import: `meshlake.errors`, `meshlake.catalog`, `meshlake.contract`, `meshlake.query`, `meshlake.write`,
`meshlake.quality`, `meshlake.access`, `meshlake.maintenance`; the facades (`Lake`, `Port`) only as types.
"""
