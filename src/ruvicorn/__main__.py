from __future__ import annotations

import sys


def main() -> None:
    from ruvicorn.cli import main as cli_main

    cli_main(prog_name="ruvicorn")


if __name__ == "__main__":
    sys.exit(main())
