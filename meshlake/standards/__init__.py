"""The open contract standards: a product's descriptor as an Open Data Contract Standard (ODCS 3.2) document and
as an Open Data Product Standard (ODPS 1.1) document, and an ODCS document back as a descriptor.

Owns the mapping both ways (`odcs`, `odps`) and the validation of an imported document against the official ODCS
JSON Schema (PyPI `open-data-contract-standard`, the `standards` extra). May import errors and contract only; the
lake (where a product is read from) is handed in by the facades and the command line.
"""
