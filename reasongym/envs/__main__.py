"""`python -m reasongym.envs`: a table of every registered reasongym environment (plugins included)."""

from rich.console import Console
from rich.table import Table

import reasongym  # noqa: F401  - registers the built-in ids and the plugins
from reasongym.registry import ALIASES, ENVS


def main() -> None:
    table = Table(title="reasongym environments")
    for col in ("id", "aliases", "what it is", "splits", "verifier", "from"):
        table.add_column(col, overflow="fold")
    for env_id, info in sorted(ENVS.items()):
        aliases = ", ".join(sorted(a for a, al in ALIASES.items() if al.id == env_id))
        table.add_row(env_id, aliases, info.description, ", ".join(info.splits), info.verifier, info.source)
    Console().print(table)


if __name__ == "__main__":
    main()
