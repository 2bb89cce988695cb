"""Product templates that `meshlake new` copies: one folder per template (descriptor, pipeline, test, README).

Installed as the package data `meshlake.product_templates` (see pyproject.toml); `{{…}}` placeholders are
filled by `meshlake.pipelines.scaffold`.
"""
