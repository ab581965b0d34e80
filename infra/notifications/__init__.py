"""Notification adapters: template rendering, the SSRF guard, senders and the worker."""

from infra.notifications.guard import TargetGuard
from infra.notifications.http import HttpSender
from infra.notifications.mail import EmailSender
from infra.notifications.templates import JinjaRenderer
from infra.notifications.worker import DeliveryWorker, RetryPolicy

__all__ = [
    "DeliveryWorker",
    "EmailSender",
    "HttpSender",
    "JinjaRenderer",
    "RetryPolicy",
    "TargetGuard",
]
