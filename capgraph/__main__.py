"""``python -m capgraph`` runs the command line, as the ``capgraph`` console script does."""

from capgraph.cli.entry import main

if __name__ == "__main__":
    main()
