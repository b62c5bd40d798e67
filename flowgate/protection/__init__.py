"""What keeps one client or one query from taking the gateway down."""
