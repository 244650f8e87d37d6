"""Label Studio's webhooks, delivered from the worker with retries, signed, and logged."""
