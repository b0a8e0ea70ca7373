"""Local fake servers speaking real wire formats (Slack Web API, ...)."""
