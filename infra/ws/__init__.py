"""The `graphql-transport-ws` endpoint, with identical subscriptions sharing one execution."""

from infra.ws.connection import GraphQLWebSocket, WebSocketLimits
from infra.ws.groups import SubscriptionGroups

__all__ = ["GraphQLWebSocket", "SubscriptionGroups", "WebSocketLimits"]
