"""Microsoft Teams front end (botbuilder-core 4.17.1).

Everything Teams-specific lives in this package, so a later move to the Microsoft 365
Agents SDK (same Activity protocol) touches this folder only:

- `adapter`  — CloudAdapter construction, authentication, the 4.17.1 invoke fix
- `bot`      — the ActivityHandler (typed commands, card actions, conversation refs)
- `actions`  — what each command and card verb does, as cards
- `cards`    — neutral Message → Adaptive Card 1.5; interview pages → card forms
- `sender`   — the outbox Sender (proactive messages through stored references)
- `package`  — the app package (manifest.json + icons) for sideloading
"""
