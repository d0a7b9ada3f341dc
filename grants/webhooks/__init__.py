"""Webhooks for registry systems: endpoints, signed deliveries, attempts (docs/integration.md)."""
