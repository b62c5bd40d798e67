"""Identity: passwords, access and refresh tokens, API keys, and turning a bearer credential
into a `Principal` (`Authenticator`); `LiveSessions` ends the subscriptions of a credential
that lost its access."""

from flowgate.auth.authenticator import AuthenticationError, Authenticator
from flowgate.auth.live import LiveSessions

__all__ = ["AuthenticationError", "Authenticator", "LiveSessions"]
