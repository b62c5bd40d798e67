class StoreUnavailableError(Exception):
    """A store cannot be reached. The message is one line naming the setting and the store."""

    def __init__(self, setting: str, store: str, detail: str) -> None:
        super().__init__(f"FLOWGATE_{setting.upper()}: cannot reach {store}: {detail}")
        self.setting = setting
        self.store = store


def unreachable_store(error: BaseException | None) -> str | None:
    """ "PostgreSQL" or "MongoDB" when `error` says that store cannot be reached (refused,
    reset, timed out, shutting down), else `None`: a bug or a bad query is not an outage."""
    from pymongo.errors import ConnectionFailure, PyMongoError
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConnectionFailure):  # AutoReconnect, ServerSelectionTimeout, ...
            return "MongoDB"
        if isinstance(error, PyMongoError) and error.timeout:
            # The operation's time limit (`timeoutMS`) ran out on a server that is stalled.
            return "MongoDB"
        if isinstance(error, OperationalError | InterfaceError | PoolTimeoutError) or (
            isinstance(error, DBAPIError) and error.connection_invalidated
        ):
            return "PostgreSQL"
        if isinstance(error, StoreUnavailableError):
            return error.store
        if isinstance(error, OSError) or _is_asyncpg_disconnect(error):
            # asyncpg's own: a connect that is refused, times out or finds no socket reaches
            # us unwrapped by SQLAlchemy. pymongo and redis-py wrap theirs (above, and the
            # bus and the search index handle their own), so an OSError is PostgreSQL's.
            return "PostgreSQL"
        error = error.__cause__ or error.__context__
    return None


def _is_asyncpg_disconnect(error: BaseException) -> bool:
    import asyncpg

    return isinstance(
        error,
        asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.exceptions.CannotConnectNowError
        | asyncpg.exceptions.AdminShutdownError
        | asyncpg.exceptions.InterfaceError,
    )
