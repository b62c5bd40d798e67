"""What each mutation does: plain async functions `(info, *, typed args)` that change the
stores and raise the domain errors of `resolvers.mutations.errors` for expected failures.
The schema turns those errors into typed results (`schema.mutations.capture`)."""
