"""Slack front end (slack-bolt on aiohttp): slash command, interview modal, approval
buttons, App Home, and the outbox Sender.

`mount(app, core, settings)` adds `POST /slack/events` to the shared aiohttp app of
`govbot serve` and returns the Sender that delivers outbox messages to Slack.
"""
