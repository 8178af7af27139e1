"""``python -m capgraph`` runs the command line."""

from capgraph.cli.app import main

if __name__ == "__main__":
    main()
