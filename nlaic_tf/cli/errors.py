"""The error type commands raise for mistakes the user can fix."""


class UserError(Exception):
  """Bad arguments or input: `nlaic` prints the message (no traceback) and exits with 1."""
