"""The `graphql-transport-ws` endpoint, with identical subscriptions sharing one execution."""

from infra.ws.admission import OriginPolicy, SocketCounts
from infra.ws.connection import GraphQLWebSocket, WebSocketLimits
from infra.ws.groups import SubscriptionGroups

__all__ = [
    "GraphQLWebSocket",
    "OriginPolicy",
    "SocketCounts",
    "SubscriptionGroups",
    "WebSocketLimits",
]
