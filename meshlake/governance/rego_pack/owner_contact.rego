# PACK001 = GOV001 owner-contact: the owner team and a contact e-mail are given.
package meshlake.pack.owner_contact

import rego.v1

deny := [f |
	some p in input.products
	p.owner.email == null
	f := {"product": p.name, "message": sprintf("owner %s gives no contact: add owner.email", [p.owner.team])}
]
