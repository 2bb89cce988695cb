"""A product as an ODPS 1.1 data product: input ports (the ports it reads, with their pins), output ports (one per
output port, each pointing at the product's ODCS contract), management ports (where meshlake answers about it)."""

from __future__ import annotations

from typing import Any

from meshlake.contract.descriptor import Descriptor
from meshlake.standards.odcs import custom

API_VERSION = "v1.1.0"
MANAGEMENT = (
    ("discoverability", "describe", "meshlake describe {product}: owner, ports, schemas, latest snapshots"),
    ("observability", "slo", "meshlake slo {port}: freshness, volume and quality pass rate of a port"),
    ("dictionary", "export-odcs", "meshlake export odcs {product}: the data contract (ODCS)"),
    ("control", "release", "meshlake release list {product}: the product's releases"),
)


def export_odps(descriptor: Descriptor) -> dict[str, Any]:
    """The ODPS document of `descriptor`."""
    name = str(descriptor.product_name)
    doc: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataProduct",
        "id": name,
        "name": descriptor.name,
        "version": descriptor.version,
        "status": "active",
        "domain": descriptor.domain,
    }
    if descriptor.description is not None:
        doc["description"] = {"purpose": descriptor.description}
    team: dict[str, Any] = {"name": descriptor.owner.team}
    if descriptor.owner.email:
        team["members"] = [{"username": descriptor.owner.email, "role": "owner"}]
    doc["team"] = team
    if descriptor.inputs:
        doc["inputPorts"] = [_input(item) for item in descriptor.inputs]
    doc["outputPorts"] = [
        {"name": port.name, "type": "iceberg-table", "version": descriptor.version, "contractId": name,
         **({"description": port.description} if port.description else {}),
         **({"tags": list(port.tags)} if port.tags else {}),
         "customProperties": [custom("meshlakeAddress", f"{name}.{port.name}")]}
        for port in descriptor.outputs
    ]  # fmt: skip
    first = f"{name}.{descriptor.outputs[0].name}"
    doc["managementPorts"] = [
        {"name": port, "content": content, "type": "rest", "description": text.format(product=name, port=first)}
        for content, port, text in MANAGEMENT
    ]
    return doc


def _input(item: Any) -> dict[str, Any]:
    address = item.address
    port: dict[str, Any] = {"name": item.name, "contractId": str(address.product_name)}
    if item.release is not None:
        port["version"] = item.release
    extras = [custom("meshlakePort", item.port)]
    if item.snapshot is not None:
        extras.append(custom("meshlakeSnapshot", item.snapshot))
    port["customProperties"] = extras
    return port
