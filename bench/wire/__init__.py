"""Round trips counted on the wire: TCP proxies between the gateway and its stores that parse
just enough of each protocol to count what the client asks (`proxy`, `postgres`, `mongo`)."""
