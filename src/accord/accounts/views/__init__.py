"""Pages of accounts: the sign-in steps, my account, account administration, API tokens."""
