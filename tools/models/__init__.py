"""Chat models: the factory (:mod:`.llm`), the embedded local model (:mod:`.local`), its
catalogue (:mod:`.catalogue`), download routes (:mod:`.fetch`) and on-disk store
(:mod:`.store`). Import the modules themselves: langchain and llama.cpp load only when used.
"""

__all__: list[str] = []
