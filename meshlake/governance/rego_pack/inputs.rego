# PACK009 = GOV009 inputs-granted, PACK010 = GOV010 inputs-pinned.
package meshlake.pack.inputs

import rego.v1

ungranted := [f |
	some g in input.grants
	not g.read
	f := {"product": g.product, "input": g.input, "message": sprintf("input %s reads %s, but %s may not", [g.input, g.port, g.principal])}
]

floating := [f |
	some p in input.products
	some i in p.inputs
	i.snapshot == null
	i.release == null
	f := {"product": p.name, "input": i.name, "message": sprintf("input %s reads %s at whatever snapshot is latest", [i.name, i.port])}
]
