"""What the tests share, and the only part of tests/ that bench/ may use: the proposal
factory and stored-record builders, the database fixture, seeds and read helpers for
the real core, and local fakes speaking the real wire formats (Slack Web API, Bot
Connector, OpenAI). Never a test module."""
