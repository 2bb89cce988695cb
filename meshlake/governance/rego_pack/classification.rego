# PACK005 = GOV005 column-classification, PACK006 = GOV006 sensitive-columns-masked.
package meshlake.pack.classification

import rego.v1

unclassified := [f |
	some p in input.products
	some port in p.ports
	some c in port.columns
	c.classification == null
	f := {"product": p.name, "port": port.name, "column": c.name, "message": sprintf("column %s has no classification", [c.name])}
]

owners_only(port) if {
	port.readers_declared
	count(port.readers) == 0
}

unmasked := [f |
	some p in input.products
	some port in p.ports
	not owners_only(port)
	some c in port.columns
	c.classification in {"pii", "confidential"}
	c.effective_mask == null
	f := {"product": p.name, "port": port.name, "column": c.name, "message": sprintf("column %s is %s but unmasked", [c.name, c.classification])}
]
