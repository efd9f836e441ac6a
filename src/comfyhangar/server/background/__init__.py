"""Background work of a server process: the reconciler and the log follower."""
