"""What each GraphQL field does: plain async functions `(info, *, typed args)` that the
schema's root fields and type fields delegate to, and the per-request dataloaders."""
