# PACK002 = GOV002 product-description, PACK003 = GOV003 port-description, PACK004 = GOV004 column-description.
package meshlake.pack.descriptions

import rego.v1

blank(text) if text == null

blank(text) if {
	is_string(text)
	trim_space(text) == ""
}

products := [f |
	some p in input.products
	blank(p.description)
	f := {"product": p.name, "message": "the product has no description"}
]

ports := [f |
	some p in input.products
	some port in p.ports
	blank(port.description)
	f := {"product": p.name, "port": port.name, "message": sprintf("output port %s has no description", [port.name])}
]

columns := [f |
	some p in input.products
	some port in p.ports
	some c in port.columns
	blank(c.description)
	f := {"product": p.name, "port": port.name, "column": c.name, "message": sprintf("column %s has no description", [c.name])}
]
