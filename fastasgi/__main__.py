"""``python -m fastasgi``: the same as the ``fastasgi`` command."""

from fastasgi.cli import main

if __name__ == "__main__":
    main()
