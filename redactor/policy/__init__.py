"""Recipient and service → what to mask, how, static zones, overload rule."""

from redactor.policy.router import PolicyRouter, ResolvedPolicy

__all__ = ["PolicyRouter", "ResolvedPolicy"]
