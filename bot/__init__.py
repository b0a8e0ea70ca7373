"""govbot core: domain, classifier, interview, approvals, portfolio and digest.

Nothing in this package (other than `bot.app` and `bot.cli`) imports a chat platform,
a database or an LLM library; those live behind the protocols in `bot.ports`.
"""

__version__ = "0.1.0"
