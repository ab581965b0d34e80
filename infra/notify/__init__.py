"""Notification adapters: template rendering, the SSRF guard, senders and the worker."""

from infra.notify.clock import AdjustableClock
from infra.notify.guard import TargetGuard
from infra.notify.http import HttpSender
from infra.notify.mail import EmailSender
from infra.notify.templates import JinjaRenderer
from infra.notify.worker import DeliveryWorker, RetryPolicy

__all__ = [
    "AdjustableClock",
    "DeliveryWorker",
    "EmailSender",
    "HttpSender",
    "JinjaRenderer",
    "RetryPolicy",
    "TargetGuard",
]
