"""Fuzzing in the suite (issue 14): schemathesis against the served OpenAPI schema,
Hypothesis-made WebSocket frames and MQTT payloads, and junk ESC/POS status bytes from
the simulated printer. Each run is bounded and derandomized where it drives a live
process, so the suite stays fast and a failure found once is found again."""
