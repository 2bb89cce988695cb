# PACK007 = GOV007 output-slo, PACK008 = GOV008 primary-key-unique, PACK012 = GOV012 retention-declared.
package meshlake.pack.ports

import rego.v1

objectives := ["freshness", "min_rows", "max_row_change", "quality_pass_rate"]

has_slo(port) if {
	port.slo != null
	some name in objectives
	port.slo[name] != null
}

no_slo := [f |
	some p in input.products
	some port in p.ports
	not has_slo(port)
	f := {"product": p.name, "port": port.name, "message": sprintf("output port %s declares no SLO", [port.name])}
]

strict(e) if object.get(e.kwargs, "mostly", 1) == 1

unique_checked(port) if {
	some e in port.expectations
	e.type == "expect_column_values_to_be_unique"
	strict(e)
	e.kwargs.column in port.primary_key
}

unique_checked(port) if {
	some e in port.expectations
	e.type == "expect_compound_columns_to_be_unique"
	strict(e)
	count(e.kwargs.column_list) > 0
	every c in e.kwargs.column_list {
		c in port.primary_key
	}
}

key_not_unique := [f |
	some p in input.products
	some port in p.ports
	count(port.primary_key) > 0
	not unique_checked(port)
	f := {"product": p.name, "port": port.name, "message": sprintf("output port %s has a primary key but no uniqueness expectation", [port.name])}
]

no_retention := [f |
	some p in input.products
	some port in p.ports
	port.retention == null
	f := {"product": p.name, "port": port.name, "message": sprintf("output port %s declares no retention", [port.name])}
]
