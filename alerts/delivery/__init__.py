"""Getting a message to an official: claim → send → record, the sweep, and the channels."""
