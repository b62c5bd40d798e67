class StoreUnavailableError(Exception):
    """A store cannot be reached. The message is one line naming the setting and the store."""

    def __init__(self, setting: str, store: str, detail: str) -> None:
        super().__init__(f"FLOWGATE_{setting.upper()}: cannot reach {store}: {detail}")
        self.setting = setting
        self.store = store
