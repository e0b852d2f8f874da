"""``python -m fastasgi``: the same as the ``fastasgi`` command."""

from fastasgi.main import console_main

if __name__ == "__main__":
    console_main()
