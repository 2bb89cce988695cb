"""A descriptor's input ports, checked against what is deployed when it is deployed.

An input that names a port its product does not have is refused (`DescriptorError`): that read can
never work. An input whose product is not deployed yet (or cannot be read) is accepted with a
warning, since products are often deployed in any order; its pipeline cannot run until it is.
"""

from __future__ import annotations

from pyiceberg.catalog import Catalog

from meshlake.contract.descriptor import Descriptor, line_in_file
from meshlake.contract.registry import load_descriptor_of
from meshlake.contract.yamlsource import format_path
from meshlake.errors import BrokenProductError, DescriptorError


def check_inputs(catalog: Catalog, descriptor: Descriptor, *, file: str) -> list[str]:
    """Refuse inputs naming a port their product lacks; return warnings for products not deployed yet."""
    warnings = []
    for index, item in enumerate(descriptor.inputs):
        address = item.address
        where = ("inputs", index, "port")
        if address.product_name == descriptor.product_name:
            producer: Descriptor | None = descriptor
        else:
            try:
                producer = load_descriptor_of(catalog, address.product_name)
            except BrokenProductError as exc:
                warnings.append(
                    f"input '{item.name}' reads {address}, whose product cannot be read ({exc.reason}); "
                    "the pipeline cannot run until it is redeployed"
                )
                continue
        if producer is None:
            warnings.append(
                f"input '{item.name}' reads {address}, but {address.product_name} is not deployed yet; "
                "deploy it before running this product's pipeline"
            )
            continue
        ports = [port.name for port in producer.outputs]
        if address.port not in ports:
            raise DescriptorError(
                f"input '{item.name}' reads {address}, but {address.product_name} has no output port "
                f"'{address.port}' (its ports: {', '.join(ports)})",
                file=file,
                line=line_in_file(file, where),
                field=format_path(where),
            )
    return warnings
