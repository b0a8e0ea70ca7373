"""Use cases, one module each, and the facade `Govbot` (`bot.service.core`) that channels call."""
