"""``segstudio-cli``: headless subcommands. Never imports Qt; imports torch only when needed."""
