"""Entry points: the `signoff` command and the demo supervisor."""
