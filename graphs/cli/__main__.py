"""``python -m codeagent.graphs.cli``: the ``codeagent`` command line."""

from codeagent.graphs.cli.main import main

main()
