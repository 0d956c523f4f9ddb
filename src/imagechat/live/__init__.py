"""The live hub: WebSocket connections, channel subscriptions, fan-out, resync, presence."""
