"""The workflow definition: the spec (:mod:`.spec`), loading YAML with file:line errors
(:mod:`.loader`), warnings (:mod:`.checks`), the JSON Schema (:mod:`.schema`), drawing
(:mod:`.drawing`) and the shipped workflow files (:mod:`.shipped`)."""

__all__: list[str] = []
