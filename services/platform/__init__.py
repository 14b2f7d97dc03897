"""The platform: machinery every process shares (people, links, steps, mail, audit,
workflow). It imports no domain."""
