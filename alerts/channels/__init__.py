"""Delivery channels: each turns a Delivery into a message on its own transport.

A channel's `send(delivery)` either returns (the message was accepted) or raises.
"""
